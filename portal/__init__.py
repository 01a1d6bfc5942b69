"""The web portals of the grid company, the retailers and the consumers (server-rendered, aiohttp-jinja2).

Start one on a node:

    energy-node portal enable --datadir D --listen 127.0.0.1:8080     # writes D/portal.json
    energy-node portal add-user --datadir D --username ivanov --role consumer   # new key, password prompted
    energy-node run --datadir D ...                                    # serves the portal beside JSON-RPC

or, on a fresh single-validator development network, `energy-node portal demo --datadir D --network-dir NET`
before `run` writes a demo market and users. Pages read the indexer's read model (`D/index.sqlite`); every write
is a transaction signed with the user's own key, kept encrypted in `D/portal-users.sqlite`."""

from portal.app import create_portal_app

__all__ = ["create_portal_app"]
