"""Who is told what about a 督办单 (after commit, once per recipient per event; config.notify):

- 下发 → the clerks of its responsible unit and district;
- 已回复 → whoever issued it, else every supervisor;
- 退回 and 办结 → the clerks of its responsible unit and district.
"""

from __future__ import annotations

from django.dispatch import receiver
from django.urls import reverse

from config.notify import notify
from projects.selectors import clerks_of, supervisors

from ..signals import order_changed
from .models import OrderReply, SupervisionOrder

TITLES = {"issued": "督办单下发", "replied": "督办单已回复", "returned": "督办单退回", "accepted": "督办单办结"}


@receiver(order_changed, dispatch_uid="ledgers.notify_order_changed")
def notify_order_changed(sender, order_id: int, event: str, reply_id: int | None = None, **kwargs) -> None:
    order = SupervisionOrder.objects.select_related("responsible_unit", "district").filter(pk=order_id).first()
    if order is None:
        return
    clerks = clerks_of(unit_ids=[order.responsible_unit_id] if order.responsible_unit_id else [],
                       district_ids=[order.district_id] if order.district_id else [])
    reply = OrderReply.objects.filter(pk=reply_id).first() if reply_id else None
    if event == "replied":
        recipients = [order.issued_by_id] if order.issued_by_id else supervisors()
        body = f"{order.addressee}回复：{reply.text[:80] if reply else ''}"
    elif event == "returned":
        recipients, body = clerks, f"退回原因：{reply.review_note if reply else ''}。请补充后重新回复。"
    elif event == "accepted":
        recipients, body = clerks, "督办事项已办结。"
    else:
        recipients, body = clerks, f"{order.content[:80]}——办理时限 {order.deadline}。"
    # A reply's event is keyed by the reply, so a second reply (and its return) is told too.
    notify(recipients=recipients, event=f"order_{event}", key=f"order_{event}:{order.pk}:{reply_id or 0}",
           title=f"{TITLES[event]}：{order.number} {order.title}"[:200], body=body,
           url=reverse("admin:ledgers_supervisionorder_change", args=[order.pk]), object_type="supervision_order",
           object_id=order.pk)
