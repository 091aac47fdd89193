"""What the ledgers announce after their transaction commits (ledgers.receivers tells the people concerned).

- problem_assigned: `problem_id` — a problem 交办 to its responsible unit.
- problem_escalated: `problem_id`, `escalation_id` — a problem raised one level.
- entries_opened: `entry_ids` — ledger entries the sync opened.
- conditions_assigned: `condition_ids` — start conditions created for a responsible unit.
- order_changed: `order_id`, `event`, `reply_id` — a 督办单 issued, replied to, returned or accepted.
"""

from django.dispatch import Signal

problem_assigned = Signal()
problem_escalated = Signal()
entries_opened = Signal()
conditions_assigned = Signal()

# 督办单 (ledgers.supervision); `event` is one of "issued", "replied", "returned", "accepted".
order_changed = Signal()
