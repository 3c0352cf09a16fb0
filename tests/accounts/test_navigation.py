"""The main menu offers each role the screens it works on, and nothing else."""


def menu(client, login, user) -> str:
    login(user, client)
    return client.get("/home/").content.decode()


def test_a_handler_sees_cases_rosters_reviews_and_imports(client, people, login):
    page = menu(client, login, people.handler)
    for label in ("案件", "发放清册", "复核", "台账", "数据导入"):
        assert f">{label}</a>" in page
    assert ">期限监督</a>" not in page


def test_a_village_assistant_sees_entrusted_applications_and_change_reports(client, people, login):
    page = menu(client, login, people.assistant)
    assert ">委托申请</a>" in page and ">变化报告</a>" in page
    assert ">发放清册</a>" not in page and ">监督</a>" not in page


def test_a_county_supervisor_sees_supervision_and_deadlines(client, people, login):
    page = menu(client, login, people.supervisor)
    assert ">监督</a>" in page and ">期限监督</a>" in page
