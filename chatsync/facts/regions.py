"""Data-centre regions of Tencent Cloud Chat and their REST API domains (docs/tencent-api.md §1.2)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Region:
    """One data centre: its config name, primary domain and backup domain (for DNS trouble)."""

    name: str
    primary: str
    backup: str
    legacy: bool = False

    @property
    def url(self) -> str:
        """The HTTPS base URL of the primary domain."""
        return f"https://{self.primary}"


REGIONS: dict[str, Region] = {
    r.name: r
    for r in (
        Region("china", "console.tim.qq.com", "adminapi.my-imcloud.com"),
        Region("singapore", "adminapisgp.im.qcloud.com", "adminapisgp.my-imcloud.com"),
        Region("seoul", "adminapikr.im.qcloud.com", "adminapikr.my-imcloud.com"),
        Region("tokyo", "adminapijpn.im.qcloud.com", "adminapijpn.my-imcloud.com"),
        Region("frankfurt", "adminapiger.im.qcloud.com", "adminapiger.my-imcloud.com"),
        Region("silicon-valley", "adminapiusa.im.qcloud.com", "adminapiusa.my-imcloud.com"),
        Region("jakarta", "adminapiidn.im.qcloud.com", "adminapiidn.my-imcloud.com"),
        Region("mumbai", "adminapiind.im.qcloud.com", "adminapiind.my-imcloud.com", legacy=True),
    )
}

DEFAULT_REGION = "china"
