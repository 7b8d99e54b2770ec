"""The KoproGo relay (aiohttp). Imports ``shared`` only, never ``node``."""
