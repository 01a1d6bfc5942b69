"""REST endpoints for ATS 80020: export a day of a sender's metering points from the read model; check an
imported file against the ledger and turn it into `postMeterReadings` calls for the importer's gateway key.

Import does not sign for anyone: readings on the ledger are signed by the meter's bound gateway, so the response
carries the unsigned calls (to, data) that the ASKUE system signs with its gateway key and POSTs to
/api/v1/transactions. Registers are rebuilt from the last recorded reading before the day plus the interval
energies; intervals with status 1 (no data) are not posted."""

from __future__ import annotations

import datetime
import time

from aiohttp import web

from contracts_py import readings as readings_contract
from indexer.decode import encode_call
from rpc import ats80020
from rpc.openapi import ApiError, Endpoint, Param
from rpc.rest_read import LOCAL_OFFSET_KEY, S_INT, S_STR, _local_start, obj, run

READINGS_PER_CALL = 400
"""Readings per postMeterReadings call: four 32-byte words each keeps a transaction far below its size limit."""


def export_message(readers, day: datetime.date, offset_s: int, points: list[int], p: dict) -> ats80020.Message:
    start = _local_start(day, offset_s)
    point_days = []
    for point_id in points:
        point = readers.one("SELECT point_id, postal_address FROM metering_points WHERE point_id=?", (point_id,))
        if point is None:
            raise ApiError(404, "unknown_point", f"no metering point {point_id}", {"point": point_id})
        rows = readers.query(
            "SELECT r.interval_start, sum(r.delta_import_wh) AS imp, sum(r.delta_export_wh) AS exp FROM readings r "
            "JOIN meters m ON m.meter_id=r.meter_id WHERE m.point_id=? AND r.interval_start>=? AND r.interval_start<? "
            "GROUP BY r.interval_start", (point_id, start, start + 86_400))
        by_start = {r["interval_start"]: r for r in rows}
        channels: dict[str, tuple[ats80020.Interval, ...]] = {}
        for code, column in (("01", "imp"), ("02", "exp")):
            channels[code] = tuple(
                ats80020.Interval(int(by_start[s][column]), ats80020.MEASURED) if s in by_start
                else ats80020.Interval(0, ats80020.NO_DATA) for s in range(start, start + 86_400, 1800))
        for code in ("03", "04"):
            channels[code] = (ats80020.Interval(0, ats80020.NO_DATA),) * ats80020.HALF_HOURS
        point_days.append(ats80020.PointDay(str(point_id), point["postal_address"], channels))
    return ats80020.Message(p["number"], day, datetime.datetime.fromtimestamp(time.time() + offset_s, datetime.UTC)
                            .replace(tzinfo=None), p["sender_inn"], p["sender_name"] or "", p["area_inn"] or
                            p["sender_inn"], p["area_name"] or "", tuple(point_days))


async def export(request, p):
    for name in ("sender_inn", "area_inn"):
        if p[name] is not None and not (p[name].isdigit() and len(p[name]) in (10, 12)):
            raise ApiError(400, "bad_parameter", f"{name}: an INN has 10 or 12 digits", {"parameter": name})
    try:
        points = [int(x) for x in p["points"].split(",")]
    except ValueError:
        raise ApiError(400, "bad_parameter", "points: comma-separated metering point ids",
                       {"parameter": "points"}) from None
    if not 1 <= len(points) <= 1000:
        raise ApiError(400, "bad_parameter", "points: 1 to 1000 ids", {"parameter": "points"})
    message = await run(request, export_message, p["date"], request.app[LOCAL_OFFSET_KEY], points, p)
    name = ats80020.file_name(p["sender_inn"], p["date"], p["number"])
    return web.Response(body=ats80020.render(message), content_type="application/xml", charset="windows-1251",
                        headers={"Content-Disposition": f'attachment; filename="{name}"'})


def plan_import(readers, message: ats80020.Message, offset_s: int) -> dict:
    """The readings a valid message adds, per meter; ApiError 422 with every problem otherwise."""
    problems: list[ats80020.Problem] = []
    start = _local_start(message.day, offset_s)
    found: list[tuple[int, int, int, int]] = []
    for index, point in enumerate(message.points, 1):
        path = f"/message/area[1]/measuringpoint[{index}]"
        meter = readers.one("SELECT meter_id FROM meters WHERE point_id=? ORDER BY registered_block DESC, meter_id "
                            "DESC LIMIT 1", (int(point.code),))
        if meter is None:
            problems.append(ats80020.Problem(path + "/@code", f"unknown metering point {point.code} (no meter)"))
            continue
        base = readers.one("SELECT import_wh, export_wh FROM readings WHERE meter_id=? AND interval_start<? "
                           "ORDER BY interval_start DESC LIMIT 1", (meter["meter_id"], start))
        if base is None:
            problems.append(ats80020.Problem(path, f"meter {meter['meter_id']} has no reading before "
                                                   f"{message.day}: registers cannot be rebuilt"))
            continue
        imported, exported = base["import_wh"], base["export_wh"]
        export_channel = point.channels.get("02")
        for half_hour, interval in enumerate(point.channels["01"]):
            imported += interval.value_wh
            exported += export_channel[half_hour].value_wh if export_channel else 0
            measured = interval.status == ats80020.MEASURED and (
                export_channel is None or export_channel[half_hour].status == ats80020.MEASURED)
            if measured:
                found.append((meter["meter_id"], start + 1800 * half_hour, imported, exported))
    if problems:
        raise ApiError(422, "invalid_80020", f"{len(problems)} problem(s); nothing imported",
                       [{"path": p.path, "message": p.message} for p in problems])
    calls = []
    for first in range(0, len(found), READINGS_PER_CALL):
        chunk = found[first:first + READINGS_PER_CALL]
        data = encode_call(readings_contract.ADDRESS, "postMeterReadings", [c[0] for c in chunk],
                           [c[1] for c in chunk], [c[2] for c in chunk], [c[3] for c in chunk])
        calls.append({"to": "0x" + readings_contract.ADDRESS.hex(), "data": "0x" + data.hex(), "readings": len(chunk)})
    return {"day": message.day.isoformat(), "points": len(message.points), "readings": len(found), "calls": calls}


async def import_file(request, p):
    try:
        message = ats80020.parse(p["body"])
    except ats80020.Ats80020Error as exc:
        raise ApiError(422, "invalid_80020", f"{len(exc.problems)} problem(s); nothing imported",
                       [{"path": q.path, "message": q.message} for q in exc.problems]) from None
    return await run(request, plan_import, message, request.app[LOCAL_OFFSET_KEY])


READERS = frozenset({"grid_company", "retailer", "admin", "auditor"})
ENDPOINTS = [
    Endpoint("GET", "/ats80020/export", export, "A day of half-hourly data as ATS 80020 XML", "ats80020",
             (Param("date", "date", "Local day", required=True),
              Param("sender_inn", "string", "Sender's INN (10 or 12 digits)", required=True),
              Param("points", "string", "Comma-separated metering point ids", required=True),
              Param("number", "integer", "Message number", minimum=1, maximum=999_999_999, default=1),
              Param("sender_name", "string", "Sender's name"), Param("area_inn", "string", "Area INN"),
              Param("area_name", "string", "Area name")),
             roles=READERS, raw_response=True),
    Endpoint("POST", "/ats80020/import", import_file, "Validate an 80020 file and build its reading calls",
             "ats80020", (), obj(day=S_STR, points=S_INT, readings=S_INT, calls={"type": "array", "items": obj(
                 to=S_STR, data=S_STR, readings=S_INT)}),
             body={"xml": True}, roles=frozenset({"grid_company", "gateway", "admin"})),
]
