"""A project's WeCom / DingTalk group robots: list (masked), add, change (kinds, on / off, a new webhook or
secret), send a test message."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, status
from pydantic import BaseModel, Field
from sqlalchemy import func, select, text

from api.access import project_filter
from api.deps import CipherDep, SessionDep, SettingsDep, require_roles
from api.strict import RequestModel
from db.errors import Conflict, Invalid, NotFound
from db.models import User
from db.notice_models import Notice, NoticeDelivery, ProjectRobot
from domain.notify import NOTICE_KINDS, mask_webhook
from workers.channels import ChannelError
from workers.dispatcher import message_of, robot_client

router = APIRouter(tags=["notifications"])
Keepers = Annotated[User, Depends(require_roles("manager", "ops", "admin"))]
_FORBIDDEN = {403: {"description": "Not a manager of the project, ops or an administrator (`forbidden`)."}}


class RobotIn(RequestModel):
    kind: Literal["wecom", "dingtalk"]
    name: str = Field(min_length=1, max_length=64)
    webhook_url: str = Field(min_length=1, max_length=512)
    secret: str | None = Field(default=None, max_length=256, description="DingTalk's signing secret (SEC…)")
    notice_kinds: list[str] = Field(default_factory=list, description="empty: every kind")


class RobotOut(BaseModel):
    id: int
    project_id: int
    kind: str
    name: str
    webhook: str  # masked
    has_secret: bool
    notice_kinds: list[str]
    active: bool


class TestResult(BaseModel):
    delivered: bool
    message: str


def _out(r: ProjectRobot) -> RobotOut:
    return RobotOut(id=r.id, project_id=r.project_id, kind=r.kind, name=r.name, webhook=r.webhook_masked,
                    has_secret=r.secret_enc is not None, notice_kinds=list(r.notice_kinds or []), active=r.active)


@router.get("/api/projects/{project_id}/robots", response_model=list[RobotOut], responses=_FORBIDDEN,
            summary="The project's group robots (webhooks masked)")
def list_robots(project_id: int, session: SessionDep, _: Keepers) -> list[RobotOut]:
    rows = session.query(ProjectRobot).filter(ProjectRobot.project_id == project_id).order_by(ProjectRobot.id).all()
    return [_out(r) for r in rows]


def _webhook(url: str) -> str:
    url = url.strip()
    if not url.lower().startswith(("https://", "http://")):
        raise Invalid("the webhook URL must start with https:// (or http://)")
    return url


def _kinds(kinds: list[str]) -> list[str]:
    unknown = sorted(set(kinds) - set(NOTICE_KINDS))
    if unknown:
        raise Invalid(f"unknown notice kind {', '.join(unknown)}; known: {', '.join(NOTICE_KINDS)}")
    return list(dict.fromkeys(kinds))


@router.post("/api/projects/{project_id}/robots", response_model=RobotOut, status_code=status.HTTP_201_CREATED,
             responses=_FORBIDDEN, summary="Add a WeCom or DingTalk group robot to the project")
def add_robot(project_id: int, body: RobotIn, session: SessionDep, cipher: CipherDep, user: Keepers) -> RobotOut:
    url = _webhook(body.webhook_url)
    if body.kind == "dingtalk" and not (body.secret or "").strip():
        raise Invalid("a DingTalk robot needs its signing secret (加签密钥, starting SEC)")
    r = ProjectRobot(project_id=project_id, kind=body.kind, name=body.name.strip(), webhook_enc=cipher.encrypt(url),
                     webhook_masked=mask_webhook(url), secret_enc=cipher.encrypt(body.secret.strip()) if body.secret else None,
                     notice_kinds=_kinds(body.notice_kinds), created_by=user.id)
    session.add(r)
    session.flush()
    out = _out(r)
    session.commit()
    return out


class RobotChange(RequestModel):
    name: str | None = Field(default=None, min_length=1, max_length=64)
    webhook_url: str | None = Field(default=None, min_length=1, max_length=512)
    secret: str | None = Field(default=None, min_length=1, max_length=256)
    notice_kinds: list[str] | None = None
    active: bool | None = None


@router.patch("/api/robots/{robot_id}", response_model=RobotOut, responses=_FORBIDDEN,
              summary="Change a robot: its name, notice kinds, on / off, a new webhook URL or secret")
def change_robot(robot_id: int, body: RobotChange, session: SessionDep, cipher: CipherDep, _: Keepers) -> RobotOut:
    r = session.get(ProjectRobot, robot_id, with_for_update=True)
    if r is None:
        raise NotFound(f"robot {robot_id} does not exist")
    if body.name is not None:
        r.name = body.name.strip()
    if body.webhook_url is not None:
        url = _webhook(body.webhook_url)
        r.webhook_enc, r.webhook_masked = cipher.encrypt(url), mask_webhook(url)
    if body.secret is not None:
        if r.kind != "dingtalk":
            raise Invalid("only a DingTalk robot has a signing secret")
        r.secret_enc = cipher.encrypt(body.secret.strip())
    if body.notice_kinds is not None:
        r.notice_kinds = _kinds(body.notice_kinds)
    if body.active is not None:
        r.active = body.active
    session.flush()
    out = _out(r)
    session.commit()
    return out


@router.post("/api/robots/{robot_id}/test", response_model=TestResult, responses=_FORBIDDEN,
             summary="Send a test message now; a failure says what the robot answered")
def test_robot(robot_id: int, session: SessionDep, cipher: CipherDep, settings: SettingsDep, _: Keepers) -> TestResult:
    r = session.get(ProjectRobot, robot_id)
    if r is None:
        raise NotFound(f"robot {robot_id} does not exist")
    now = datetime.now(timezone.utc)
    notice = Notice(notice_key=f"test:{robot_id}:{now.timestamp()}", kind="test", title="EstateFlow 测试消息",
                    body=f"机器人「{r.name}」已接通。", link="/home", params={})
    delivery = NoticeDelivery(dedupe_key=f"test:{robot_id}:{int(now.timestamp())}", channel=r.kind, target=f"robot:{r.id}",
                              status="pending")
    try:
        robot_client(r, cipher).send(message_of(notice, delivery, settings.public_base_url))
    except ChannelError as e:
        raise Invalid(f"the robot did not take the test message: {e.message}") from None
    return TestResult(delivered=True, message="delivered")


class DeadDelivery(BaseModel):
    id: int
    project_id: int | None
    notice_kind: str
    title: str
    channel: str
    to: str  # the robot's name, or the person's
    attempts: int
    last_error: str | None
    created_at: datetime


@router.get("/api/notice-deliveries/dead", response_model=list[DeadDelivery], responses=_FORBIDDEN,
            summary="Deliveries that were given up (dead letters), newest first, in my projects")
def dead_letters(session: SessionDep, user: Keepers, project_id: int | None = None,
                 limit: int = Query(default=50, ge=1, le=200)) -> list[DeadDelivery]:
    q = (select(NoticeDelivery, Notice, ProjectRobot.name, User.display_name)
         .join(Notice, Notice.id == NoticeDelivery.notice_id)
         .outerjoin(ProjectRobot, NoticeDelivery.target == func.concat("robot:", ProjectRobot.id))
         .outerjoin(User, User.id == NoticeDelivery.user_id)
         .where(NoticeDelivery.status == "dead"))
    mine = project_filter(Notice.project_id, user)
    if mine is not None:
        q = q.where(mine)
    if project_id is not None:
        q = q.where(Notice.project_id == project_id)
    rows = session.execute(q.order_by(NoticeDelivery.id.desc()).limit(limit)).all()
    return [DeadDelivery(id=d.id, project_id=n.project_id, notice_kind=n.kind, title=n.title, channel=d.channel,
                         to=robot or person or d.target, attempts=d.attempts, last_error=d.last_error,
                         created_at=n.created_at) for d, n, robot, person in rows]


@router.post("/api/notice-deliveries/{delivery_id}/retry", response_model=DeadDelivery, responses=_FORBIDDEN,
             summary="Send a dead letter again (after the robot or mailbox was mended), with the same dedupe key")
def retry_dead(delivery_id: int, session: SessionDep, user: Keepers) -> DeadDelivery:
    d = session.get(NoticeDelivery, delivery_id, with_for_update=True)
    if d is None:
        raise NotFound(f"delivery {delivery_id} does not exist")
    if d.status != "dead":
        raise Conflict(f"delivery {delivery_id} is {d.status}, not given up; nothing to retry")
    n = session.get(Notice, d.notice_id)
    d.status, d.attempts, d.next_attempt_at = "pending", 0, datetime.now(timezone.utc)
    session.execute(text("SELECT pg_notify('notices', :id)"), {"id": str(n.id)})
    out = DeadDelivery(id=d.id, project_id=n.project_id, notice_kind=n.kind, title=n.title, channel=d.channel, to=d.target,
                       attempts=0, last_error=d.last_error, created_at=n.created_at)
    session.commit()
    return out
