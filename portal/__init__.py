"""The web portals of the grid company, the retailers and the consumers (server-rendered, aiohttp-jinja2)."""

from portal.app import create_portal_app

__all__ = ["create_portal_app"]
