from pathlib import Path

from django.conf import settings

ECHARTS_DIR = Path(settings.BASE_DIR) / "static" / "vendor" / "echarts"


def test_echarts_is_served_from_our_static_files_with_its_licence():
    script = (ECHARTS_DIR / "echarts.min.js").read_text(encoding="utf-8")
    assert "Apache License" in script[:1000]
    assert "Apache License" in (ECHARTS_DIR / "LICENSE").read_text(encoding="utf-8")
    assert (ECHARTS_DIR / "NOTICE").exists()
    assert len(script) > 500_000
