"""The node's HTTP face, all on the one port of `energy-node run --rpc host:port` (HTTPS when `<datadir>/api.json`
names a certificate, see rpc/settings.py):

- `POST /` JSON-RPC 2.0: Ethereum methods (rpc/eth.py, rpc/eth_extras.py: receipts, storage and proofs of native
  state, fee history, polling filters), qbft_* (rpc/qbft.py). `GET /` upgraded to a WebSocket: the same methods plus
  eth_subscribe newHeads and logs (rpc/subscriptions.py).
- `/api/v1/...` REST over the indexer's read model (rpc/rest_*.py, declared once in rpc/openapi.py terms):
  status, blocks, transactions (decoded), POST transactions (signed raw), participants, accounts, meters, readings
  (30 min or daily), invoices, payments, tariff-groups, reports/payments, reports/readings, webhooks and their
  delivery log, ats80020 export and import. `/api/v1/openapi.json`, Swagger UI at `/api/docs`.
  Tokens: `energy-node token create --datadir D --role retailer --address 0x...`, sent as `Authorization: Bearer`.
  Errors: `{"error": {"status", "code", "message", "details"}}`.
- `/abi/<Contract>.json` ABI of each native contract (also shipped as rpc/abi/*.json); `/metrics` Prometheus.

rpc/node_app.py wires it all and runs the indexer and webhook sender as background tasks."""
