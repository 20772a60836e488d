"""What the load drill's simulated users send, shared by the drill and its locustfile (which
must not be imported by the drill: importing locust patches the standard library for gevent)."""

from __future__ import annotations

from drills.common import PASSWORD

# One transcript per lead agency under the shipped rules (measured: each becomes a dispatched
# ticket of that agency), so the agencies' work is spread evenly. The demo city has a staff
# account named after each agency's code.
TRANSCRIPTS: dict[str, str] = {
    "water": "我们小区停水一天了，什么时候恢复",
    "hrss": "公司拖欠工资三个月了，老板不接电话",
    "urban-mgmt": "小区路灯坏了好几天，晚上很黑",
    "market": "健身房老板跑路了，预付卡退不了",
    "eco-env": "化工厂晚上偷排污水，很臭",
    "police110": "有人拿刀在街上追人",
    "fire119": "厨房着火了，火很大",
}
AGENCIES = list(TRANSCRIPTS)
REPLY_TEXT = "已联系来电人并处理完毕"

__all__ = ["AGENCIES", "PASSWORD", "REPLY_TEXT", "TRANSCRIPTS"]
