"""Admin pages for the configuration files: the deadline policies in force (read-only) and the
routing rules, with an upload that replaces them only when the new file validates.

An upload is checked exactly like ``hotline rules check`` (schema, agency codes from the
database, deadline policy names), and also refused when it sends work to a deactivated agency.
A valid file is written beside the old one and moved into place with ``os.replace``, the old
file kept as ``<name>.bak``; then this process swaps its rules. Other processes (gunicorn
workers) read the file when they start: reload them (``kill -HUP`` the gunicorn master).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
from pathlib import Path

import sqlalchemy as sa
from flask import current_app, flash, redirect, render_template, request, url_for

from hotline.domain.policies import CLOCK_NAMES, ClockRule, Unit
from hotline.extensions import db
from hotline.models import Agency
from hotline.rules.schema import Problem, RulesError, RuleSet, load_rules
from hotline.services.directory import rules_naming
from hotline.services.routing import RulesHolder
from hotline.web.admin import bp, log

CLOCK_LABELS = {"sign_for": "签收", "reply": "答复", "close": "办结"}
UNIT_LABELS = {
    Unit.WORKING_DAYS: "个工作日",
    Unit.DAYS: "天",
    Unit.HOURS: "小时",
    Unit.MINUTES: "分钟",
}
COUNTING_LABELS = {"inclusive": "含本数", "next_day": "次日起算"}
START_LABELS = {"dispatch": "自派单起", "sign_for": "自签收起"}
SUFFIXES = (".yaml", ".yml")

_install_lock = threading.Lock()  # two uploads in one process never interleave their writes


def describe_clock(rule: ClockRule) -> str:
    """ "5 个工作日 · 次日起算 · 自派单起": how a supervisor reads a clock."""
    parts = [f"{rule.amount} {UNIT_LABELS[rule.unit]}"]
    if rule.unit in (Unit.WORKING_DAYS, Unit.DAYS):
        parts.append(COUNTING_LABELS[rule.counting.value])
    parts.append(START_LABELS[rule.starts_at.value])
    return " · ".join(parts)


@bp.get("/policies")
def policies():
    policy_set = current_app.extensions["hotline.policies"]
    ruleset: RuleSet = current_app.extensions["hotline.rules"].rules
    used_by: dict[str, list[str]] = {}
    for rule in ruleset.all_rules():
        if rule.action.deadline_policy:
            used_by.setdefault(rule.action.deadline_policy, []).append(rule.id)
    return render_template(
        "admin/policies.html",
        policy_set=policy_set,
        clock_names=CLOCK_NAMES,
        clock_labels=CLOCK_LABELS,
        describe=describe_clock,
        used_by=used_by,
        source=current_app.config["DEADLINE_POLICIES"],
        section="policies",
    )


def _rules_page(problems: list[Problem] | None = None, error: str | None = None, status=200):
    holder: RulesHolder = current_app.extensions["hotline.rules"]
    return (
        render_template(
            "admin/rules.html",
            ruleset=holder.rules,
            source=holder.source,
            problems=problems or [],
            error=error,
            max_kib=current_app.config["RULES_UPLOAD_MAX_BYTES"] // 1024,
            section="rules",
        ),
        status,
    )


@bp.get("/rules")
def rules():
    return _rules_page()


class UploadRefused(ValueError):
    """The upload is not a YAML text file we accept; nothing was changed."""


def read_upload(filename: str, data: bytes, max_bytes: int) -> str:
    if not filename:
        raise UploadRefused("请选择要上传的 routing_rules.yaml 文件")
    if not filename.lower().endswith(SUFFIXES):
        raise UploadRefused(f"只接受 .yaml 或 .yml 文件，而不是 {filename!r}")
    if len(data) > max_bytes:
        raise UploadRefused(f"文件过大：上限 {max_bytes // 1024} KB")
    if not data.strip():
        raise UploadRefused("文件是空的")
    if b"\x00" in data:
        raise UploadRefused("不是文本文件")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UploadRefused(f"不是 UTF-8 编码的文本（第 {exc.start + 1} 个字节）") from None


def _agency_codes() -> tuple[set[str], set[str]]:
    """All codes (what `hotline rules check` accepts) and those of deactivated agencies."""
    rows = db.session.execute(sa.select(Agency.code, Agency.is_active)).all()
    return {code for code, _ in rows}, {code for code, active in rows if not active}


def _inactive_problems(ruleset: RuleSet, inactive: set[str]) -> list[Problem]:
    lines = {rule.id: rule.line for rule in ruleset.all_rules()}
    return [
        Problem(place, None, lines.get(place), f"单位 {code!r} 已停用，不能再接收工单")
        for code in sorted(inactive)
        for place in rules_naming(ruleset, code)
    ]


def install_rules(data: bytes, target: Path, holder: RulesHolder) -> tuple[RuleSet, RuleSet]:
    """Validate ``data``; if valid, put it at ``target`` atomically (old file -> .bak) and
    swap it into ``holder``. Returns (old, new). Raises RulesError with nothing changed."""
    policies = set(current_app.extensions["hotline.policies"].policies)
    codes, inactive = _agency_codes()
    with _install_lock:
        fd, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".new")
        tmp = Path(name)
        backup_tmp = target.with_name(f".{target.name}.bak.new")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            candidate = load_rules(tmp, agencies=codes, policies=policies)
            problems = _inactive_problems(candidate, inactive)
            if problems:
                raise RulesError(problems)
            if target.exists():
                backup = target.with_name(target.name + ".bak")
                shutil.copy2(target, backup_tmp)
                os.replace(backup_tmp, backup)
            os.replace(tmp, target)
        finally:
            tmp.unlink(missing_ok=True)
            backup_tmp.unlink(missing_ok=True)
        old = holder.rules
        new = holder.reload(target, agencies=codes, policies=policies)
    return old, new


@bp.post("/rules")
def rules_upload():
    upload = request.files.get("rules_file")
    max_bytes = int(current_app.config["RULES_UPLOAD_MAX_BYTES"])
    try:
        if upload is None:
            raise UploadRefused("请选择要上传的 routing_rules.yaml 文件")
        data = upload.stream.read(max_bytes + 1)
        read_upload(upload.filename or "", data, max_bytes)
    except UploadRefused as exc:
        return _rules_page(error=str(exc), status=422)
    holder: RulesHolder = current_app.extensions["hotline.rules"]
    target = Path(current_app.config["ROUTING_RULES"])
    try:
        old, new = install_rules(data, target, holder)
    except RulesError as exc:
        log("routing rules upload refused: %d problems", len(exc.problems))
        return _rules_page(problems=exc.problems, status=422)
    except OSError as exc:
        current_app.logger.error("routing rules upload could not be written: %s", exc)
        return _rules_page(error=f"无法写入规则文件 {target}：{exc.strerror}", status=500)
    log("replaced the routing rules: version %s -> %s (%s)", old.version, new.version, target)
    flash(
        f"已启用新的路由规则：版本 {new.version}（原版本 {old.version}），原文件已备份为"
        f" {target.name}.bak。其他工作进程在重新加载后生效。",
        "info",
    )
    if new.version <= old.version:
        flash(f"注意：新文件的版本号 {new.version} 没有大于原版本 {old.version}", "error")
    return redirect(url_for("admin.rules"))
