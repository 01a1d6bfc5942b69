import os as _os

# eth-hash picks pycryptodome before pysha3 when both are installed; pysha3's C keccak is about 4x faster per
# call, and keccak runs in every trie node, address and topic. The documented switch is this variable.
_os.environ.setdefault("ETH_HASH_BACKEND", "pysha3")
