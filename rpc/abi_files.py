"""The ABI JSON of every native contract, shipped as rpc/abi/<NAME>.json for tools that read files (ethers,
web3.py, Hardhat). Regenerate after changing a contract: `python -m rpc.abi_files`."""

from __future__ import annotations

import json
from pathlib import Path

from contracts_py.catalog import CONTRACTS
from contracts_py.runtime import NativeContract

ABI_DIR = Path(__file__).resolve().parent / "abi"


def abi_file_text(contract: NativeContract) -> str:
    return json.dumps(contract.abi(), indent=2) + "\n"


def write_abi_files(directory: Path = ABI_DIR) -> list[Path]:
    directory.mkdir(exist_ok=True)
    written = []
    for contract in CONTRACTS.values():
        path = directory / f"{contract.NAME}.json"
        path.write_text(abi_file_text(contract))
        written.append(path)
    return written


if __name__ == "__main__":
    for written_path in write_abi_files():
        print(written_path)
