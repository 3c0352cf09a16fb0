"""The fixture loads Dengkou's real approval units; villages import from the national code list."""

from django.core.management import call_command

from accounts.models import Unit, Village, VillageChange

REAL_UNITS = {
    "150822100": "巴彦高勒镇",
    "150822101": "隆盛合镇",
    "150822102": "渡口镇",
    "150822103": "补隆淖镇",
    "150822200": "沙金套海苏木",
    "150822400": "磴口县农垦乌兰布和农场有限责任公司",
    "150822401": "磴口县农垦巴彦套海农场有限责任公司",
    "150822402": "磴口县农垦哈腾套海农场有限责任公司",
    "150822403": "磴口县农垦包尔盖农场有限责任公司",
    "150822404": "磴口县农垦纳林套海农场有限责任公司",
}


def test_reference_data_loads_the_real_tree_twice_without_change(db):
    call_command("load_reference_data", verbosity=0)
    call_command("load_reference_data", verbosity=0)
    units = dict(Unit.objects.approval_units().values_list("code", "name"))
    assert units == REAL_UNITS
    assert Unit.objects.get(code="150822").name == "磴口县民政局"
    assert not Unit.objects.filter(code="150822405").exists()


def write_csv(tmp_path, text, name="codes.csv", encoding="utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return str(path)


CODES = "代码,名称,城乡分类代码\n150822100001,样例社区居委会,111\n150822101201,样例嘎查,220\n"


def test_villages_import_and_reimport_changes_nothing(db, tmp_path, capsys):
    call_command("load_reference_data", verbosity=0)
    call_command("import_villages", write_csv(tmp_path, CODES))
    call_command("import_villages", write_csv(tmp_path, CODES))
    assert Village.objects.count() == 2
    assert "新增0个，更新0个，未变2个" in capsys.readouterr().out
    community = Village.objects.get(code="150822100001")
    assert community.kind == "community" and community.unit.code == "150822100"


def test_bad_lines_are_reported_by_number(db, tmp_path, capsys):
    call_command("load_reference_data", verbosity=0)
    text = (
        CODES
        + "15082210,短代码,220\n150822999001,外县村,220\n150822100002,,220\n150822100003,某村,999\n"
    )
    call_command("import_villages", write_csv(tmp_path, text, encoding="gbk"))
    err = capsys.readouterr().err
    assert "第4行" in err and "不是12位数字" in err
    assert "第5行" in err and "不属于磴口县" in err
    assert "第6行" in err and "名称为空" in err
    assert "第7行" in err and "城乡分类代码" in err
    assert Village.objects.count() == 2


def test_a_renamed_or_merged_village_keeps_history(db, tmp_path):
    call_command("load_reference_data", verbosity=0)
    call_command("import_villages", write_csv(tmp_path, CODES))
    renamed = CODES.replace("样例嘎查", "样例新嘎查") + "150822101202,并入后的嘎查,220\n"
    call_command("import_villages", write_csv(tmp_path, renamed))
    merged = renamed.replace(
        "150822101201,样例新嘎查,220", "150822101201,样例新嘎查,220,150822101202"
    )
    call_command("import_villages", write_csv(tmp_path, merged))
    old = Village.objects.get(code="150822101201")
    assert old.name == "样例新嘎查" and not old.is_active and old.merged_into.code == "150822101202"
    kinds = list(VillageChange.objects.filter(village=old).values_list("kind", flat=True))
    assert kinds == ["created", "renamed", "merged"]
