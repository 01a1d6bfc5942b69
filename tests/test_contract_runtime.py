"""The native contract runtime against an in-memory state: selectors, ABI, events, reverts, gas."""

import eth_abi
import pytest

from contracts_py import participants, ruble
from contracts_py.catalog import CONTRACTS
from contracts_py.runtime import BlockInfo, ContractStorage, GasMeter, execute_call

BLOCK = BlockInfo(number=1, timestamp=1_700_000_000, proposer=bytes(20), chain_id=7)
ALICE = bytes.fromhex("aa" * 20)
BOB = bytes.fromhex("bb" * 20)
ISSUER = bytes.fromhex("1c" * 20)


class DictState:
    def __init__(self):
        self.data = {}

    def storage_get(self, address, key):
        return self.data.get((address, key))

    def storage_set(self, address, key, value):
        if value is None:
            self.data.pop((address, key), None)
        else:
            self.data[(address, key)] = value


def call(state, to, sender, signature, types, args, gas=1_000_000):
    from eth_hash.auto import keccak
    data = keccak(signature.encode())[:4] + eth_abi.encode(types, args)
    return execute_call(CONTRACTS, state, BLOCK, to=to, sender=sender, data=data, gas_limit=gas)


@pytest.fixture
def state():
    s = DictState()
    meter = GasMeter(10**9)
    ruble.credit_at_genesis(ContractStorage(s, ruble.ADDRESS, meter), ALICE, 10_000)
    participants.grant_at_genesis(ContractStorage(s, participants.ADDRESS, meter), ISSUER, participants.Role.ISSUER)
    return s


def test_transfer_moves_kopecks_and_emits_erc20_transfer_log(state):
    result = call(state, ruble.ADDRESS, ALICE, "transfer(address,uint256)", ["address", "uint256"], [BOB, 2_500])
    assert result.success and eth_abi.decode(["bool"], result.return_data) == (True,)
    (log,) = result.logs
    assert log.topics[0].hex() == "ddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef"
    assert log.topics[1][-20:] == ALICE and log.topics[2][-20:] == BOB
    assert eth_abi.decode(["uint256"], log.data) == (2_500,)
    balance = call(state, ruble.ADDRESS, BOB, "balanceOf(address)", ["address"], [BOB])
    assert eth_abi.decode(["uint256"], balance.return_data) == (2_500,)


def test_overdraft_reverts_with_reason(state):
    result = call(state, ruble.ADDRESS, BOB, "transfer(address,uint256)", ["address", "uint256"], [ALICE, 1])
    assert not result.success
    assert "insufficient balance" in result.revert_reason
    assert result.return_data[:4] == bytes.fromhex("08c379a0")


def test_mint_only_by_issuer(state):
    denied = call(state, ruble.ADDRESS, ALICE, "mint(address,uint256)", ["address", "uint256"], [ALICE, 5])
    assert not denied.success and "issuer" in denied.revert_reason
    allowed = call(state, ruble.ADDRESS, ISSUER, "mint(address,uint256)", ["address", "uint256"], [BOB, 5])
    assert allowed.success
    supply = call(state, ruble.ADDRESS, BOB, "totalSupply()", [], [])
    assert eth_abi.decode(["uint256"], supply.return_data) == (10_005,)


def test_unknown_selector_and_bad_arguments_revert_clearly(state):
    unknown = execute_call(CONTRACTS, state, BLOCK, to=ruble.ADDRESS, sender=ALICE, data=b"\x01\x02\x03\x04",
                           gas_limit=100_000)
    assert not unknown.success and "unknown selector 0x01020304" in unknown.revert_reason
    from eth_hash.auto import keccak
    truncated = keccak(b"transfer(address,uint256)")[:4] + b"\x00" * 10
    bad = execute_call(CONTRACTS, state, BLOCK, to=ruble.ADDRESS, sender=ALICE, data=truncated, gas_limit=100_000)
    assert not bad.success and "badly encoded arguments" in bad.revert_reason


def test_out_of_gas_reverts(state):
    result = call(state, ruble.ADDRESS, ALICE, "transfer(address,uint256)", ["address", "uint256"], [BOB, 1],
                  gas=3_000)
    assert not result.success and "out of gas" in result.revert_reason


def test_abi_json_lists_erc20_functions_and_events():
    abi = CONTRACTS[ruble.ADDRESS].abi()
    names = {entry["name"] for entry in abi}
    assert {"transfer", "approve", "transferFrom", "balanceOf", "Transfer", "Approval"} <= names
    assert "chargeOrigin" not in names
    transfer_event = next(e for e in abi if e["name"] == "Transfer")
    assert [i["name"] for i in transfer_event["inputs"]] == ["from", "to", "value"]


def test_static_word_codec_matches_eth_abi():
    from contracts_py.abi import decode_words, encode_word

    cases = [("address", ALICE), ("bool", True), ("bool", False), ("bytes32", b"\x01" * 32), ("uint8", 255),
             ("uint64", 2**64 - 1), ("uint256", 2**256 - 1), ("int64", -5), ("int256", -(2**255)), ("uint256", 0)]
    for abi_type, value in cases:
        assert encode_word(abi_type, value) == eth_abi.encode([abi_type], [value]), abi_type
        assert decode_words((abi_type,), eth_abi.encode([abi_type], [value])) == [value], abi_type
    with pytest.raises(ValueError):
        encode_word("uint8", 256)
    with pytest.raises(ValueError):
        decode_words(("uint8",), (256).to_bytes(32, "big"))
    with pytest.raises(ValueError):
        decode_words(("address",), b"\x01" * 32)
    with pytest.raises(ValueError):
        decode_words(("uint256", "uint256"), b"\x00" * 40)


def test_event_fast_path_matches_eth_abi_encoding():
    log = ruble.Transfer(from_=ALICE, to=BOB, value=77)
    from contracts_py.runtime import encode_event

    encoded = encode_event(ruble.ADDRESS, log)
    assert encoded.topics[1] == eth_abi.encode(["address"], [ALICE])
    assert encoded.data == eth_abi.encode(["uint256"], [77])
