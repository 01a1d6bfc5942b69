"""The dispatcher's blocking methods: off the loop, a batch's run of them in one worker call, answers in order."""

import asyncio
import json
import threading

from rpc.jsonrpc import Dispatcher, RpcError, SERVER_ERROR


def dispatcher_recording_threads() -> tuple[Dispatcher, list[int]]:
    threads: list[int] = []
    dispatcher = Dispatcher()

    def admit(raw: str) -> str:
        threads.append(threading.get_ident())
        if raw == "refused":
            raise RpcError(SERVER_ERROR, "nonce too low")
        return raw.upper()

    async def add(a: int, b: int = 0) -> int:
        return a + b

    dispatcher.register("admit", admit, blocking=True)
    dispatcher.register("add", add)
    return dispatcher, threads


def request(method: str, *params, id_: int | None = None) -> dict:
    body = {"jsonrpc": "2.0", "method": method, "params": list(params)}
    if id_ is not None:
        body["id"] = id_
    return body


def test_a_batch_runs_consecutive_blocking_requests_in_one_worker_and_answers_in_order():
    dispatcher, threads = dispatcher_recording_threads()
    batch = [request("admit", "a", id_=1), request("admit", "refused", id_=2), request("admit", "b"),
             request("admit", "c", "extra", id_=3), {"jsonrpc": "2.0", "id": 4}, request("add", 1, 2, id_=5),
             request("admit", "d", id_=6)]

    async def run() -> tuple[list, int]:
        return await dispatcher.handle_body(json.dumps(batch).encode()), threading.get_ident()

    answers, loop_thread = asyncio.run(run())
    assert [answer["id"] for answer in answers] == [1, 2, 3, 4, 5, 6]  # the notification gets no answer
    assert answers[0]["result"] == "A"
    assert answers[1]["error"] == {"code": SERVER_ERROR, "message": "nonce too low"}
    assert answers[2]["error"]["code"] == -32602 and "expected 1 parameters, got 2" in answers[2]["error"]["message"]
    assert answers[3]["error"]["code"] == -32600
    assert answers[4]["result"] == 3
    assert answers[5]["result"] == "D"
    assert len(threads) == 4 and loop_thread not in threads
    assert threads[0] == threads[1] == threads[2]  # a, refused and the notification b: one worker call


def test_a_single_blocking_request_runs_off_the_loop():
    dispatcher, threads = dispatcher_recording_threads()

    async def run() -> tuple[dict, int]:
        return await dispatcher.handle_body(json.dumps(request("admit", "x", id_=7)).encode()), threading.get_ident()

    answer, loop_thread = asyncio.run(run())
    assert answer == {"jsonrpc": "2.0", "id": 7, "result": "X"}
    assert threads and threads[0] != loop_thread


def test_a_method_name_of_the_wrong_type_is_an_invalid_request():
    dispatcher, _ = dispatcher_recording_threads()
    answers = asyncio.run(dispatcher.handle_body(json.dumps(
        [{"jsonrpc": "2.0", "id": 1, "method": ["admit"]}, {"jsonrpc": "2.0", "id": 2, "method": {"a": 1}},
         request("admit", "ok", id_=3)]).encode()))
    assert [a.get("error", {}).get("code") for a in answers] == [-32600, -32600, None]
    assert answers[2]["result"] == "OK"


def test_arity_counts_defaults_and_refuses_too_few():
    dispatcher, _ = dispatcher_recording_threads()
    answers = asyncio.run(dispatcher.handle_body(json.dumps(
        [request("add", 1, id_=1), request("add", id_=2), request("add", 1, 2, 3, id_=3)]).encode()))
    assert answers[0]["result"] == 1
    assert "expected 1 to 2 parameters, got 0" in answers[1]["error"]["message"]
    assert "expected 1 to 2 parameters, got 3" in answers[2]["error"]["message"]
