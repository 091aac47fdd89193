"""调度会 and 督办单: numbering, the reply → return → acceptance loop, scope, the overdue light and 待办, the
generated agenda and its Word and PDF files."""

from __future__ import annotations

import contextlib
import datetime
import io
import subprocess
import threading
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext
from docx import Document

from config import todo
from config.lights import Light
from config.models import Notification
from config.scoping import SYSTEM
from config.workflow import TransitionRefused
from ledgers import services as ledger_services
from ledgers.choices import ItemKind, OrderStatus, ProblemLevel
from ledgers.models import OrderReply, OrderSerial, SupervisionOrder
from ledgers.supervision import services
from ledgers.supervision.selectors import order_overdue_days, overdue_orders
from projects import services as project_services
from projects.choices import PlanKind
from projects.models import AnnualPlanEntry

D = datetime.date
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def issue(supervisor, *, unit=None, district=None, deadline=D(2021, 6, 30), on=D(2021, 6, 1), title="尽快办理施工许可"):
    return services.supervision_order_issue(title=title, content="请于时限内办结并回复。", deadline=deadline,
                                            responsible_unit=unit, district=district, issued_on=on, by=supervisor)


def test_orders_are_numbered_in_sequence_per_year(supervisor, fgw, chaoyang):
    first = issue(supervisor, unit=fgw)
    second = issue(supervisor, district=chaoyang)
    next_year = issue(supervisor, unit=fgw, on=D(2022, 1, 5), deadline=D(2022, 2, 1))
    assert [first.number, second.number, next_year.number] == ["督办〔2021〕1号", "督办〔2021〕2号", "督办〔2022〕1号"]


def test_a_clerk_replies_with_a_file_the_supervisor_returns_it_then_accepts_it(
        supervisor, clerk, chaoyang, login, api, settings, tmp_path, django_capture_on_commit_callbacks):
    # The announcements run after commit (the notifications), as after each request.
    with django_capture_on_commit_callbacks(execute=True):
        settings.MEDIA_ROOT = tmp_path
        order = issue(supervisor, district=chaoyang)
        report = SimpleUploadedFile("办理情况.pdf", PDF, content_type="application/pdf")
        order = services.supervision_order_reply(order=order, text="已完成人防审批。", attachments=[report], by=clerk)
        assert order.status == OrderStatus.REPLIED
        stored = OrderReply.objects.get(order=order).attachments.get().file.name
        assert stored.startswith("orders/") and stored.endswith(".pdf") and "办理情况" not in stored  # named by us

        # The supervisor returns it from the admin button, with the reason the clerk reads.
        response = login(supervisor).post(f"/admin/ledgers/supervisionorder/{order.pk}/transition/send_back/",
                                          {"reason": "缺少批复文件"})
        assert response.status_code == 302
        order.refresh_from_db()
        assert order.status == OrderStatus.RETURNED
        assert OrderReply.objects.get(order=order).review_note == "缺少批复文件"

        # The clerk replies again through the API, a disguised file is refused naming the field, then a real one.
        fake = SimpleUploadedFile("批复.pdf", b"<html><script>x</script></html>", content_type="application/pdf")
        refused = api(clerk).post(f"/api/supervision-orders/{order.pk}/reply/", {"text": "补充批复", "attachments": [fake]},
                                  format="multipart")
        assert refused.status_code == 400 and "第1个附件：附件" in refused.content.decode()
        good = SimpleUploadedFile("批复.pdf", PDF, content_type="application/pdf")
        answer = api(clerk).post(f"/api/supervision-orders/{order.pk}/reply/", {"text": "补充批复", "attachments": [good]},
                                 format="multipart")
        assert answer.status_code == 200, answer.content
        assert answer.json()["status_label"] == "已回复" and len(answer.json()["replies"]) == 2

        # A clerk cannot accept their own reply; the supervisor can.
        with pytest.raises(PermissionDenied):
            services.supervision_order_accept(order=order, by=clerk)
        order = services.supervision_order_accept(order=order, note="办结", by=supervisor)
        assert (order.status, order.done_on) == (OrderStatus.DONE, datetime.date.today())
        reasons = list(order.history.order_by("history_id").values_list("history_change_reason", flat=True))
        assert reasons == ["下发督办〔2021〕1号", "回复：已完成人防审批。", "退回：缺少批复文件", "回复：补充批复", "办结：办结"]
        with pytest.raises(TransitionRefused):
            services.supervision_order_reply(order=order, text="再回复", by=clerk)

    # Each step told the other side: the clerk of the issue, the return and the acceptance; the supervisor of
    # both replies.
    told = sorted(Notification.objects.values_list("recipient__username", "event"))
    assert told == sorted([("clerk_chaoyang", "order_issued"), ("supervisor", "order_replied"),
                           ("clerk_chaoyang", "order_returned"), ("supervisor", "order_replied"),
                           ("clerk_chaoyang", "order_accepted")])


def test_clerks_see_and_reply_to_their_own_districts_or_units_orders_only(
        supervisor, clerk, other_clerk, dept_clerk, chaoyang, nanguan, fgw, other_unit, api):
    own = issue(supervisor, district=chaoyang)
    theirs = issue(supervisor, district=nanguan)
    unit_order = issue(supervisor, unit=fgw)
    other_units = issue(supervisor, unit=other_unit)
    assert set(SupervisionOrder.objects.for_user(clerk)) == {own}
    assert set(SupervisionOrder.objects.for_user(dept_clerk)) == {unit_order}
    assert api(clerk).get(f"/api/supervision-orders/{theirs.pk}/").status_code == 404
    assert api(dept_clerk).post(f"/api/supervision-orders/{other_units.pk}/reply/", {"text": "x"}).status_code == 404
    with pytest.raises(PermissionDenied):
        services.supervision_order_reply(order=theirs, text="篡改", by=clerk)
    with pytest.raises(PermissionDenied):  # only supervisors issue orders
        issue(clerk, district=chaoyang)
    assert api(other_clerk).post(f"/api/supervision-orders/{theirs.pk}/reply/", {"text": "已办"}).status_code == 200


def test_an_overdue_order_is_red_counts_its_days_and_is_in_the_clerks_todo(supervisor, clerk, chaoyang, login):
    late = issue(supervisor, district=chaoyang, deadline=D(2021, 6, 30))
    issue(supervisor, district=chaoyang, deadline=D(2021, 8, 30), title="尚未到期")
    on = D(2021, 7, 10)
    assert [o.pk for o in overdue_orders(clerk, on=on)] == [late.pk]
    assert overdue_orders(clerk, on=on)[0].light == Light.RED
    assert order_overdue_days(late, on) == 10
    items = todo.items(clerk, on=on)["order_to_reply"]
    assert [(i.title, i.severity) for i in items] == [("督办〔2021〕1号：尽快办理施工许可", "red"),
                                                      ("督办〔2021〕2号：尚未到期", "yellow")]
    assert "超期 10 天" in items[0].reason
    # Replying takes it off the clerk's list and puts it on the supervisor's; it is no longer overdue.
    services.supervision_order_reply(order=late, text="已办", by=clerk)
    assert [i.object["id"] for i in todo.items(clerk, on=on)["order_to_reply"]] != [late.pk]
    assert [i.object["id"] for i in todo.items(supervisor, on=on)["order_to_accept"]] == [late.pk]
    assert not overdue_orders(SYSTEM, on=on).filter(pk=late.pk).exists()
    page = login(clerk).get("/todo/?year=2021")
    assert "待回复的督办单" in page.content.decode()


@pytest.fixture
def leading_group_meeting(supervisor, clerk, chaoyang, fgw, project_factory):
    """A 领导小组 meeting on 2021-12-20 over: a problem escalated to it, a red-light project, an overdue order."""
    stuck = project_factory(chaoyang, name="人防审批受阻项目", responsible_unit=fgw)
    problem = ledger_services.problem_report(project=stuck, category="approval", description="人防审批意见未出具",
                                             responsible_unit=fgw, deadline=D(2021, 9, 1),
                                             reported_on=D(2021, 8, 1), by=SYSTEM)
    for deadline in (D(2021, 10, 1), D(2021, 11, 1)):
        problem = ledger_services.problem_escalate(problem=problem, reason="需上级协调", new_deadline=deadline,
                                                   on=problem.deadline, by=SYSTEM)
    behind = project_factory(chaoyang, name="进度落后项目", total_investment=Decimal("50000"))
    project_services.project_start(project=behind, on=D(2021, 3, 1), by=SYSTEM)
    AnnualPlanEntry.objects.create(project=behind, year=2021, kind=PlanKind.CONTINUING,
                                   planned_investment=Decimal("12000"))
    order = issue(supervisor, unit=fgw, deadline=D(2021, 11, 30), title="限期完成征收")
    meeting = services.meeting_plan(level=ProblemLevel.LEADING_GROUP, title="2021年第4次领导小组调度会",
                                    held_on=D(2021, 12, 20), chair="王市长", by=supervisor, units=[fgw])
    return meeting, problem, behind, order


def test_the_agenda_lists_escalated_problems_red_projects_and_overdue_orders_and_can_be_edited(
        leading_group_meeting, supervisor, fgw):
    meeting, problem, behind, order = leading_group_meeting
    items = {(i.kind, i.problem_id or i.project_id if i.kind != ItemKind.OVERDUE_ORDER else i.order_id)
             for i in meeting.items.all()}
    assert items == {(ItemKind.PROBLEM, problem.pk), (ItemKind.RED_PROJECT, behind.pk),
                     (ItemKind.OVERDUE_ORDER, order.pk)}
    red = meeting.items.get(kind=ItemKind.RED_PROJECT)
    services.meeting_item_drop(item=red, by=supervisor)
    services.meeting_item_add(meeting=meeting, title="研究2022年项目谋划", by=supervisor)
    assert services.meeting_agenda_generate(meeting=meeting, by=supervisor) == 0  # the dropped item stays off
    assert [i.title for i in meeting.items.filter(dropped=False).order_by("position")][-1] == "研究2022年项目谋划"

    meeting = services.meeting_hold(meeting=meeting, by=supervisor)
    with pytest.raises(TransitionRefused):
        services.meeting_item_add(meeting=meeting, title="会后加的", by=supervisor)
    item = meeting.items.get(kind=ItemKind.PROBLEM)
    services.meeting_item_decide(item=item, decision="由市发改委牵头，12月底前出具人防审批意见。", responsible_unit=fgw,
                                 deadline=D(2021, 12, 31), by=supervisor)
    made = SupervisionOrder.objects.get(source_item=item)
    assert (made.number, made.problem_id, made.issued_on) == ("督办〔2021〕2号", problem.pk, D(2021, 12, 20))
    with pytest.raises(TransitionRefused):  # one decision per item
        services.meeting_item_decide(item=item, decision="再议", by=supervisor)


def test_the_agenda_prints_and_downloads_as_word_and_pdf_with_its_items(
        leading_group_meeting, supervisor, clerk, login, django_assert_max_num_queries):
    meeting, problem, behind, order = leading_group_meeting
    c = login(supervisor)
    with django_assert_max_num_queries(12):
        page = c.get(f"/ledgers/meetings/{meeting.pk}/agenda/")
    html = page.content.decode()
    assert page.status_code == 200 and "人防审批受阻项目" in html and "督办〔2021〕1号" in html
    assert "kp/agenda.css" in html and 'onclick="window.print()"' in html  # the A4 print stylesheet

    word = c.get(f"/ledgers/meetings/{meeting.pk}/agenda.docx")
    doc = Document(io.BytesIO(word.content))
    cells = [cell.text for table in doc.tables for row in table.rows for cell in row.cells]
    assert "人防审批受阻项目：人防审批意见未出具" in cells and "进度落后项目（朝阳区）" in cells
    assert any(c.startswith("督办〔2021〕1号") for c in cells)
    assert doc.paragraphs[1].text == "2021年第4次领导小组调度会议程"

    pdf = c.get(f"/ledgers/meetings/{meeting.pk}/agenda.pdf")
    assert pdf.content.startswith(b"%PDF")
    text = subprocess.run(["pdftotext", "-layout", "-", "-"], input=pdf.content, capture_output=True,
                          check=True).stdout.decode()
    assert "人防审批受阻项目" in text and "督办〔2021〕1号" in text and "领导小组" in text
    # Clerks have no meetings: the agenda lists every district's problems.
    assert login(clerk).get(f"/ledgers/meetings/{meeting.pk}/agenda/").status_code == 404


PARALLEL = 8


@pytest.mark.django_db(transaction=True)
def test_orders_issued_at_the_same_moment_get_consecutive_numbers_none_twice(supervisor, fgw, monkeypatch):
    """Eight supervisors' requests, each on its own thread and database connection, issue an order at once.

    On PostgreSQL a barrier holds all eight inside their transactions just before the number is taken, so all
    race for the year's counter row at the same moment (its first insert too): the row lock orders them and
    the numbers are 1 to 8. SQLite serialises writers at BEGIN (IMMEDIATE); its shared-cache test database
    answers "locked" instead of waiting, so there the threads take turns."""
    barrier = threading.Barrier(PARALLEL)
    take = services._take_serial
    if connection.vendor == "postgresql":
        def waiting(year):
            barrier.wait(timeout=30)
            return take(year)

        monkeypatch.setattr(services, "_take_serial", waiting)
    turns = threading.Lock() if connection.vendor == "sqlite" else contextlib.nullcontext()
    errors: list[BaseException] = []

    def run(n: int) -> None:
        try:
            with turns:
                issue(supervisor, unit=fgw, title=f"并发督办{n}")
        except BaseException as exc:  # reported below, with the thread's exception
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(PARALLEL)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=90)
    assert errors == []
    serials = sorted(SupervisionOrder.objects.filter(year=2021).values_list("serial", flat=True))
    assert serials == list(range(1, PARALLEL + 1))
    assert OrderSerial.objects.get(year=2021).last == PARALLEL


def test_the_order_list_and_its_api_cost_the_same_queries_for_2_and_6_orders_with_replies(
        supervisor, clerk, chaoyang, login, api):
    def add(n: int) -> None:
        for _ in range(n):
            order = issue(supervisor, district=chaoyang)
            services.supervision_order_reply(order=order, text="已办", by=clerk)

    def queries(client, url: str) -> int:
        client.get(url)  # once first: a write in the district leaves the header's 待办 cell to compute (2 queries)
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        return len(ctx.captured_queries)

    pages = [(login(supervisor), "/admin/ledgers/supervisionorder/"), (login(clerk), "/admin/ledgers/supervisionorder/"),
             (api(supervisor), "/api/supervision-orders/"), (api(clerk), "/api/supervision-orders/")]
    add(2)
    few = [queries(c, url) for c, url in pages]
    add(4)
    assert [queries(c, url) for c, url in pages] == few
