"""Demo 话术 (issue 16): approved scripts taken from the seed's own words (../shared/seeds: the unified 话术 of
the four-step response and the answers to the three common causes of refunds). Two are the group's library
(every project sees them), three the main project's; written by marketing and approved by legal, or the
other way round (never by their author).

Called from scripts/seed.py with the other modules of the demo office:
    seed_knowledge.seed(s, cipher, project=project, users=users, people=people, units=units, today=today)
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from sqlalchemy.orm import Session

from db.knowledge_models import Script
from db.models import Project, Unit, User

ALL_REASONS = ["family_disagreement", "funds_shortfall", "competitor_comparison", "other"]

# (group library?, title, body, reason codes, keywords, written by)
SCRIPTS = (
    (True, "接待安抚（第一步：情绪隔离）",
     "我们非常理解您的顾虑，请您先坐下喝杯茶，我们一起看看怎么解决最合适。",
     ALL_REASONS, ["退房", "投诉"], "marketing"),
    (True, "客户情绪激动时",
     "我完全理解您的心情，这个问题我们可以这样处理……（先复述客户的诉求，再说明接下来 2 小时内的安排）",
     [], ["投诉", "态度", "媒体", "律师"], "legal"),
    (False, "家庭意见不统一",
     "购房是全家的大事。我们邀请您的家人一起到案场，重新看一看户型和朝向，由家人共同确认；"
     "签署《共居人知情确认书》后再做决定，您看可以吗？",
     ["family_disagreement"], ["配偶", "父母", "户型", "朝向"], "marketing"),
    (False, "资金暂未到位",
     "首次提出延期付款的，可以给您宽限 7–10 天（按约定收取一定比例的滞纳金）；如确实无力履约，我们启动退房流程，"
     "同时释放房源；如您有亲友愿意接手，推荐接盘买家可返还部分定金作为感谢。",
     ["funds_shortfall"], ["延期付款", "年终奖", "定金", "首付"], "legal"),
    (False, "竞品对比后反悔",
     "您的感受我们理解。我们今天内核实竞品的政策，评估能否为您匹配相应的权益，"
     "例如赠送物业费或升级智能家居包；一味说“不能退”不是我们的做法。",
     ["competitor_comparison"], ["竞品", "降价", "优惠", "买贵了"], "marketing"),
)


def seed(s: Session, cipher, *, project: Project, users: dict[str, User], people: dict[str, User],
         units: list[Unit], today: date) -> None:
    """users: the demo account per role (scripts/seed.py DEMO_USERS); the other arguments are the modules'
    common signature."""
    now = datetime.now(timezone.utc)
    other = {"marketing": "legal", "legal": "marketing"}
    for k, (group, title, body, reasons, keywords, by) in enumerate(SCRIPTS):
        author, approver = users[by], users[other[by]]
        at = now - timedelta(days=30 - k)
        s.add(Script(project_id=None if group else project.id, title=title, body=body, reason_codes=sorted(reasons),
                     keywords=keywords, status="approved", author_id=author.id, author_role=by,
                     approved_by=approver.id, approved_role=other[by], approved_at=at + timedelta(hours=2),
                     created_at=at, updated_at=at + timedelta(hours=2)))
    s.flush()
