"""The crawler's settings: the seeds' environment names, overridable per plugin config.

``LUMINA_WIKI_API``, ``CRAWL_RATE_LIMIT`` (or ``LUMINA_CRAWL_RATE_LIMIT``), ``RECRAWL_DAYS`` and
``LUMINA_CRAWL_CONTACT`` are read from the environment; the plugin's own config section
(``LUMINA_PLUGIN_CONFIG__CRAWLER__WIKI_API`` or the YAML file) wins over them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from lumina_core.version import __version__

WIKIPEDIA_API = "https://en.wikipedia.org/w/api.php"


def _env(*names: str) -> AliasChoices:
    return AliasChoices(names[0].lower().removeprefix("lumina_"), *names)


class CrawlerSettings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    wiki_api: str = Field(WIKIPEDIA_API, validation_alias=_env("LUMINA_WIKI_API", "WIKI_API"),
                          description="The MediaWiki api.php to crawl.")
    contact: str = Field("https://github.com/lumina-assistant/lumina",
                         validation_alias=_env("LUMINA_CRAWL_CONTACT", "CRAWL_CONTACT"),
                         description="Contact (e-mail or URL) put in the User-Agent, as Wikimedia asks.")
    rate_limit: float = Field(2.0, gt=0, validation_alias=_env("CRAWL_RATE_LIMIT", "LUMINA_CRAWL_RATE_LIMIT"),
                              description="API requests per second, across all workers.")
    recrawl_days: float = Field(7.0, ge=0, validation_alias=_env("RECRAWL_DAYS", "LUMINA_RECRAWL_DAYS"),
                                description="Articles older than this are fetched again (by revision id).")
    maxlag: int = Field(5, ge=1, validation_alias=_env("LUMINA_CRAWL_MAXLAG", "CRAWL_MAXLAG"),
                        description="Seconds of replication lag at which the wiki may ask us to wait.")

    @property
    def user_agent(self) -> str:
        return f"Lumina-crawler/{__version__} ({self.contact}) lumina-core/{__version__}"

    @property
    def article_url_base(self) -> str:
        """``https://en.wikipedia.org/wiki`` for ``https://en.wikipedia.org/w/api.php``."""
        root = self.wiki_api.rsplit("/", 1)[0]
        return root.removesuffix("/w") + "/wiki"


def crawler_settings(config: Mapping[str, Any]) -> CrawlerSettings:
    """Environment first, then the plugin's config section on top."""
    return CrawlerSettings(**{k: v for k, v in config.items() if v is not None})
