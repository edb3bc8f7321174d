#!/usr/bin/env python3
"""apigw-audit's benchmark: how close an audit gets to its floors.

Starts moto (tests/moto/launcher.py) on 127.0.0.1 with the shaping proxy
(shaper.py) in front, builds a synthetic account in one region through
ordinary AWS calls made to moto directly, and runs the real binary through
the proxy three ways, each signed with its own access key so the proxy can
shape its traffic:

* one API, every request delayed by --rtt-ms: wall time against the floor
  (critical-path depth x RTT), and against depth x the round trip a plain
  client measures through the proxy (the delay plus its own cost). Unmeasured
  warm-up runs first teach the proxy every answer, which it then replays after the delay: moto
  serves one request at a time in about 20 ms, which would otherwise be
  measured as the tool's;
* the same audit one call at a time (--max-concurrency 1): the baseline;
* every API of the region (--all-apis), delayed and behind AWS-like token
  buckets that answer throttling errors as AWS does: wall time against the
  rate-limit floor (for each bucket, calls beyond its burst divided by its
  rate; the largest), throttles, `error` findings and peak memory.

  bench.py --binary target/debug/apigw-audit [--size small|full] [--rtt-ms 50] [--json OUT]

Prints a table; with --json also writes the figures. Exits non-zero when an
audit does not complete correctly (an `error` finding, a failing check on the
healthy synthetic account, or a non-zero exit), never on timing.
"""
import argparse
import http.client
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

import boto3

HERE = os.path.dirname(os.path.abspath(__file__))
LAUNCHER = os.path.join(HERE, "..", "moto", "launcher.py")
SHAPER = os.path.join(HERE, "shaper.py")
REGION = "eu-central-1"

SIZES = {
    # APIs split evenly between REST and HTTP.
    "small": dict(apis=4, stages=3, routes=4, nlbs=2, tgs_per_nlb=2, targets_per_tg=2, sgs=4, links_v2=1),
    "full": dict(apis=50, stages=3, routes=10, nlbs=10, tgs_per_nlb=4, targets_per_tg=5, sgs=30, links_v2=5),
}

# AWS's documented control-plane buckets, [rate per second, burst]; the
# tool's client-side defaults model the same ones.
AWS_BUCKETS = {
    "apigateway": [10, 40],
    "apigateway:GetResources": [2.5, 5],
    "elasticloadbalancing": [10, 40],
    "ec2:*": [20, 100],
    "acm:*": [10, 10],
    "lambda": [15, 15],
    "cloudfront": [5, 10],
    "servicediscovery": [20, 40],
}


def start(what, script, *args):
    """Starts the launcher or the proxy; both print `LISTENING <port>` and
    exit when their stdin closes."""
    proc = subprocess.Popen([sys.executable, script, *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)
    line = proc.stdout.readline()
    if not line.startswith("LISTENING "):
        raise SystemExit(f"{what} did not start: {line!r}")
    return proc, f"http://127.0.0.1:{int(line.split()[1])}"


def clients(endpoint):
    kw = dict(region_name=REGION, endpoint_url=endpoint, aws_access_key_id="builder",
              aws_secret_access_key="builder")
    return {n: boto3.client(n, **kw) for n in ("ec2", "elbv2", "apigateway", "apigatewayv2", "iam")}


def build(c, size):
    """The synthetic account: NLBs with listeners, target groups and
    instances behind security groups and network ACLs, REST APIs on VPC
    links (v1) and HTTP APIs on VPC links (v2), every route integrated."""
    ec2, elb, apigw, v2 = c["ec2"], c["elbv2"], c["apigateway"], c["apigatewayv2"]
    vpc = ec2.create_vpc(CidrBlock="10.200.0.0/16")["Vpc"]["VpcId"]
    azs = [f"{REGION}a", f"{REGION}b"]
    sgs = []
    for i in range(size["sgs"]):
        g = ec2.create_security_group(GroupName=f"app-{i}", Description="app", VpcId=vpc)["GroupId"]
        ec2.authorize_security_group_ingress(GroupId=g, IpPermissions=[{
            "IpProtocol": "tcp", "FromPort": 8000, "ToPort": 8999, "IpRanges": [{"CidrIp": "10.200.0.0/16"}]}])
        sgs.append(g)
    nlbs = []
    for n in range(size["nlbs"]):
        lb_subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.200.{2 * n + k}.0/24",
                                        AvailabilityZone=azs[k])["Subnet"]["SubnetId"] for k in range(2)]
        app_subnet = ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.200.{100 + n}.0/24",
                                       AvailabilityZone=azs[n % 2])["Subnet"]["SubnetId"]
        acl = ec2.create_network_acl(VpcId=vpc)["NetworkAcl"]["NetworkAclId"]
        for egress, ports in ((False, (8000, 8999)), (True, (1024, 65535))):
            ec2.create_network_acl_entry(NetworkAclId=acl, RuleNumber=100, Protocol="6", RuleAction="allow",
                                         Egress=egress, CidrBlock="10.200.0.0/16",
                                         PortRange={"From": ports[0], "To": ports[1]})
        for a in ec2.describe_network_acls(Filters=[{"Name": "association.subnet-id",
                                                     "Values": [app_subnet]}])["NetworkAcls"]:
            for assoc in a["Associations"]:
                if assoc["SubnetId"] == app_subnet:
                    ec2.replace_network_acl_association(AssociationId=assoc["NetworkAclAssociationId"],
                                                        NetworkAclId=acl)
        lb = elb.create_load_balancer(Name=f"nlb-{n}", Type="network", Scheme="internal",
                                      Subnets=lb_subnets)["LoadBalancers"][0]
        listeners = []
        for t in range(size["tgs_per_nlb"]):
            port = 8000 + t
            tg = elb.create_target_group(Name=f"tg-{n}-{t}", Protocol="TCP", Port=port, VpcId=vpc,
                                         TargetType="instance", HealthCheckProtocol="TCP")["TargetGroups"][0]
            sg = sgs[(n * size["tgs_per_nlb"] + t) % len(sgs)]
            r = ec2.run_instances(ImageId="ami-12c6146b", MinCount=size["targets_per_tg"],
                                  MaxCount=size["targets_per_tg"], InstanceType="t3.micro",
                                  SubnetId=app_subnet, SecurityGroupIds=[sg])
            elb.register_targets(TargetGroupArn=tg["TargetGroupArn"],
                                 Targets=[{"Id": i["InstanceId"]} for i in r["Instances"]])
            lst = elb.create_listener(LoadBalancerArn=lb["LoadBalancerArn"], Protocol="TCP", Port=port,
                                      DefaultActions=[{"Type": "forward",
                                                       "TargetGroupArn": tg["TargetGroupArn"]}])
            listeners.append((port, lst["Listeners"][0]["ListenerArn"]))
        svc = ec2.create_vpc_endpoint_service_configuration(NetworkLoadBalancerArns=[lb["LoadBalancerArn"]],
                                                            AcceptanceRequired=False)
        # What CreateVpcLink does: API Gateway's account (eu-central-1's, per
        # the Developer Guide) among the service's allowed principals.
        ec2.modify_vpc_endpoint_service_permissions(
            ServiceId=svc["ServiceConfiguration"]["ServiceId"],
            AddAllowedPrincipals=["arn:aws:iam::474240146802:root"])
        link = apigw.create_vpc_link(name=f"link-{n}", targetArns=[lb["LoadBalancerArn"]])["id"]
        nlbs.append(dict(dns=lb["DNSName"], listeners=listeners, link=link, subnets=lb_subnets))
    links_v2 = [v2.create_vpc_link(Name=f"link2-{k}", SubnetIds=nlbs[k % len(nlbs)]["subnets"],
                                   SecurityGroupIds=[sgs[k % len(sgs)]])["VpcLinkId"]
                for k in range(size["links_v2"])]
    role = c["iam"].create_role(RoleName="apigw-cw-bench", AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                "Principal": {"Service": "apigateway.amazonaws.com"}}]}))
    apigw.update_account(patchOperations=[{"op": "replace", "path": "/cloudwatchRoleArn",
                                           "value": role["Role"]["Arn"]}])
    stages = ["dev", "beta", "prod"][: size["stages"]] + [f"s{i}" for i in range(max(0, size["stages"] - 3))]
    rest_ids, http_ids = [], []
    for i in range(size["apis"]):
        nlb = nlbs[i % len(nlbs)]
        if i % 2 == 0:
            api = apigw.create_rest_api(name=f"rest-{i}", endpointConfiguration={"types": ["REGIONAL"]})["id"]
            root = [r for r in apigw.get_resources(restApiId=api)["items"] if r["path"] == "/"][0]["id"]
            for k in range(size["routes"]):
                res = apigw.create_resource(restApiId=api, parentId=root, pathPart=f"r{k}")["id"]
                port = nlb["listeners"][k % len(nlb["listeners"])][0]
                apigw.put_method(restApiId=api, resourceId=res, httpMethod="GET", authorizationType="NONE")
                apigw.put_integration(restApiId=api, resourceId=res, httpMethod="GET", type="HTTP_PROXY",
                                      integrationHttpMethod="GET", uri=f"http://{nlb['dns']}:{port}/r{k}",
                                      connectionType="VPC_LINK", connectionId="${stageVariables.vpcLinkId}")
            for st in stages:
                apigw.create_deployment(restApiId=api, stageName=st, variables={"vpcLinkId": nlb["link"]})
                apigw.update_stage(restApiId=api, stageName=st, patchOperations=[
                    {"op": "replace", "path": "/*/*/logging/loglevel", "value": "INFO"}])
            rest_ids.append(api)
        else:
            api = v2.create_api(Name=f"http-{i}", ProtocolType="HTTP")["ApiId"]
            link = links_v2[i % len(links_v2)]
            for k in range(size["routes"]):
                arn = nlb["listeners"][k % len(nlb["listeners"])][1]
                integ = v2.create_integration(ApiId=api, IntegrationType="HTTP_PROXY", IntegrationMethod="ANY",
                                              IntegrationUri=arn, ConnectionType="VPC_LINK", ConnectionId=link,
                                              PayloadFormatVersion="1.0")["IntegrationId"]
                v2.create_route(ApiId=api, RouteKey=f"GET /r{k}", Target=f"integrations/{integ}")
            for st in stages:
                v2.create_stage(ApiId=api, StageName=st, AutoDeploy=True, AccessLogSettings={
                    "DestinationArn": f"arn:aws:logs:{REGION}:123456789012:log-group:/apigw/http-{i}",
                    "Format": "$context.requestId $context.status $context.integrationErrorMessage"})
            http_ids.append(api)
    return rest_ids, http_ids


def requests(request_log, key, since):
    """The proxy's record of the requests signed with `key` since `since`."""
    out = []
    with open(request_log) as f:
        for line in f:
            try:
                d = json.loads(line)
            except ValueError:
                continue
            if d.get("key") == key and d.get("t", 0) >= since:
                out.append(d)
    return out


def run_tool(binary, endpoint, key, args, out_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(AWS_ENDPOINT_URL=endpoint, AWS_ACCESS_KEY_ID=key, AWS_SECRET_ACCESS_KEY="bench",
               AWS_REGION=REGION, AWS_EC2_METADATA_DISABLED="true", NO_COLOR="1")
    cmd = [binary, "audit", *args, "--stats", "--output", "json", "--out-file", out_path]
    start = time.monotonic()
    since = time.time()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    stderr_pipe = proc.stderr
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.monotonic() - start
    until = time.time()
    stderr = stderr_pipe.read().decode(errors="replace") if stderr_pipe else ""
    code = os.waitstatus_to_exitcode(status)
    report = None
    if os.path.exists(out_path):
        with open(out_path) as f:
            report = json.load(f)
    return dict(wall=wall, code=code, report=report, stderr=stderr, rss_mb=usage.ru_maxrss / 1024.0, since=since,
                until=until)


def round_trip(endpoint, key, n=21):
    """The proxy's round trip as a client sees it: the median of `n`
    sequential replayed `GetAccount` requests signed with `key`, each on a
    new connection. It is the injected delay plus what the proxy itself
    costs per request, which no client can beat."""
    host, port = endpoint.split("//", 1)[1].split(":")
    auth = (f"AWS4-HMAC-SHA256 Credential={key}/20260101/{REGION}/apigateway/aws4_request, "
            "SignedHeaders=host, Signature=0")
    times = []
    for _ in range(n):
        conn = http.client.HTTPConnection(host, int(port), timeout=10)
        start = time.monotonic()
        conn.request("GET", "/account", headers={"Authorization": auth})
        conn.getresponse().read()
        times.append(time.monotonic() - start)
        conn.close()
    return statistics.median(times)


def bucket_floor(calls, buckets):
    """The least time the calls can take through the buckets: for each
    bucket, the calls beyond its burst divided by its rate; the largest."""
    per = {}
    for op, n in calls.items():
        service = op.split(":")[0]
        names = []
        if service in buckets:
            names.append((service, buckets[service]))
        if op in buckets:
            names.append((op, buckets[op]))
        elif f"{service}:*" in buckets:
            names.append((op, buckets[f"{service}:*"]))
        for name, rule in names:
            per.setdefault(name, [rule, 0])[1] += n
    floor, worst = 0.0, None
    for name, ((rate, burst), n) in per.items():
        t = max(0.0, (n - burst) / rate)
        if t > floor:
            floor, worst = t, name
    return floor, worst


def findings(report):
    for a in report["apis"]:
        for s in a["stages"]:
            for f in s["findings"]:
                yield a, s, f


def by_service(calls):
    out = {}
    for op, n in calls.items():
        s = op.split(":")[0]
        out[s] = out.get(s, 0) + n
    return out


def check_complete(name, run, problems):
    if run["report"] is None:
        problems.append(f"{name}: no report (exit {run['code']}): {run['stderr'].strip()[:300]}")
        return
    bad = [f"{a['id']}/{s['name']} {f['check']} {f['status']}: {f['message']}"
           for a, s, f in findings(run["report"]) if f["status"] in ("error", "fail")]
    if bad:
        problems.append(f"{name}: {len(bad)} error/fail finding(s) on a healthy account, first: {bad[0]}")
    if run["code"] != 0:
        problems.append(f"{name}: exit code {run['code']}")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--binary", required=True)
    p.add_argument("--size", choices=sorted(SIZES), default="small")
    p.add_argument("--rtt-ms", type=float, default=50.0)
    p.add_argument("--repeat", type=int, default=9, help="runs of the one-API audit; the median counts")
    p.add_argument("--repeat-sequential", type=int, default=3,
                   help="runs of the one-call-at-a-time audit (at most one after each of the others); "
                        "the median counts")
    p.add_argument("--json", help="also write the figures here")
    args = p.parse_args()
    if args.repeat < 1 or args.repeat_sequential < 1:
        p.error("--repeat and --repeat-sequential must be at least 1")
    size = SIZES[args.size]
    rtt = args.rtt_ms / 1000.0
    with tempfile.TemporaryDirectory() as work:
        faults = os.path.join(work, "faults")
        os.mkdir(faults)
        # Every key replays: the warm-up runs fill the proxy's memory of
        # answers, so the measured runs see the injected latency and the
        # buckets, not the emulator's own serial time per request.
        for key, config in (("BENCHWARM", {}), ("BENCHONE", {"_delay_ms": args.rtt_ms}),
                            ("BENCHACCOUNT", {"_delay_ms": args.rtt_ms, "_buckets": AWS_BUCKETS})):
            with open(os.path.join(faults, f"{key}.json"), "w") as f:
                json.dump({**config, "_replay": True}, f)
        request_log = os.path.join(work, "requests.log")
        moto, upstream = start("moto", LAUNCHER)
        shaper, endpoint = start("the shaping proxy", SHAPER, "--upstream", upstream, "--config-dir", faults,
                                 "--request-log", request_log)
        try:
            t0 = time.monotonic()
            rest_ids, http_ids = build(clients(upstream), size)
            build_s = time.monotonic() - t0
            one = rest_ids[0]
            problems = []
            unpaced = [a for k in AWS_BUCKETS for a in ("--rate-limit", f"{k}=off")]
            for name, target in (("warm-up, one API", ["--api-id", one]), ("warm-up, account", ["--all-apis"])):
                check_complete(name, run_tool(args.binary, endpoint, "BENCHWARM", [*target, *unpaced],
                                              os.path.join(work, "warm.json")), problems)
            # The one-call-at-a-time runs are spread among the concurrent
            # ones, so that a slow spell of a shared machine weighs on both
            # sides of the speed-up alike.
            runs, seqs = [], []
            for i in range(args.repeat):
                runs.append(run_tool(args.binary, endpoint, "BENCHONE", ["--api-id", one],
                                     os.path.join(work, f"one-{i}.json")))
                if i * args.repeat_sequential // args.repeat != (i + 1) * args.repeat_sequential // args.repeat:
                    seqs.append(run_tool(args.binary, endpoint, "BENCHONE",
                                         ["--api-id", one, "--max-concurrency", "1"],
                                         os.path.join(work, f"seq-{i}.json")))
            for r in runs:
                check_complete("one API", r, problems)
            for r in seqs:
                check_complete("one API, one call at a time", r, problems)
            one_wall = statistics.median(r["wall"] for r in runs)
            seq_wall = statistics.median(r["wall"] for r in seqs)
            one_stats = runs[0]["report"]["stats"] if runs[0]["report"] else {}
            depth = one_stats.get("critical_path_depth", 0)
            one_floor = depth * rtt
            # What the proxy adds beyond the injected latency, and the
            # requests moto had to serve because the warm-up had not seen
            # them (none, unless the tool's requests changed between runs).
            served = [d for d in requests(request_log, "BENCHONE", runs[0]["since"])
                      if any(r["since"] <= d["t"] <= r["until"] for r in runs)]
            misses = sum(1 for d in served if not d.get("replayed"))
            measured_rtt = round_trip(endpoint, "BENCHONE")
            one_floor_served = depth * measured_rtt
            acct = run_tool(args.binary, endpoint, "BENCHACCOUNT", ["--all-apis"], os.path.join(work, "acct.json"))
            check_complete("account", acct, problems)
            acct_stats = acct["report"]["stats"] if acct["report"] else {}
            rate_floor, bottleneck = bucket_floor(acct_stats.get("calls", {}), AWS_BUCKETS)
            acct_floor = max(rate_floor, acct_stats.get("critical_path_depth", 0) * rtt)
            acct_misses = sum(1 for d in requests(request_log, "BENCHACCOUNT", acct["since"])
                              if not d.get("replayed") and not d.get("throttled"))
            errors = sum(1 for _, _, f in findings(acct["report"]) if f["status"] == "error") if acct["report"] else None
            apis = len(acct["report"]["apis"]) if acct["report"] else 0
        finally:
            for proc in (shaper, moto):
                proc.stdin.close()
                proc.wait(timeout=10)
    fig = {
        "size": args.size, "rtt_ms": args.rtt_ms, "build_seconds": round(build_s, 1),
        "one_api": {
            "wall_seconds": round(one_wall, 3), "critical_path_depth": depth,
            "floor_seconds": round(one_floor, 3),
            "ratio_to_floor": round(one_wall / one_floor, 2) if one_floor else None,
            "measured_round_trip_ms": round(measured_rtt * 1000, 1),
            "requests_not_replayed": misses,
            "floor_with_server_seconds": round(one_floor_served, 3),
            "ratio_to_floor_with_server": round(one_wall / one_floor_served, 2) if one_floor_served else None,
            "calls": one_stats.get("calls_total"), "calls_by_service": by_service(one_stats.get("calls", {})),
            "runs": len(runs), "wall_seconds_each": [round(r["wall"], 3) for r in runs],
            "one_call_at_a_time_seconds": round(seq_wall, 3),
            "one_call_at_a_time_seconds_each": [round(r["wall"], 3) for r in seqs],
            "speedup_over_one_at_a_time": round(seq_wall / one_wall, 1) if one_wall else None,
        },
        "account": {
            "apis": apis, "wall_seconds": round(acct["wall"], 3), "floor_seconds": round(acct_floor, 3),
            "bottleneck": bottleneck,
            "ratio_to_floor": round(acct["wall"] / acct_floor, 2) if acct_floor else None,
            "calls": acct_stats.get("calls_total"), "calls_by_service": by_service(acct_stats.get("calls", {})),
            "throttles": acct_stats.get("throttles"), "retries": acct_stats.get("retries"),
            # The tool's own VmHWM: the parent's ru_maxrss of a child it
            # spawned can include this (large) Python process's memory.
            "error_findings": errors,
            "peak_rss_mb": round(acct_stats["peak_rss_bytes"] / 1048576.0, 1)
            if "peak_rss_bytes" in acct_stats else round(acct["rss_mb"], 1),
            "requests_not_replayed": acct_misses,
            "critical_path_depth": acct_stats.get("critical_path_depth"),
        },
        "problems": problems,
    }
    o, a = fig["one_api"], fig["account"]
    print(f"apigw-audit benchmark: size {args.size}, {args.rtt_ms:.0f} ms per request, "
          f"account built in {build_s:.1f} s")
    print(f"  one API   : {o['wall_seconds']:.3f} s (median of {o['runs']}), floor {o['floor_seconds']:.3f} s "
          f"({o['critical_path_depth']} levels x {args.rtt_ms:.0f} ms), ratio {o['ratio_to_floor']}; "
          f"with the proxy's measured round trip of {o['measured_round_trip_ms']} ms: floor "
          f"{o['floor_with_server_seconds']:.3f} s, ratio {o['ratio_to_floor_with_server']}; "
          f"{o['calls']} calls {o['calls_by_service']}, {o['requests_not_replayed']} not replayed")
    print(f"  one API, one call at a time: {o['one_call_at_a_time_seconds']:.3f} s "
          f"(median of {len(o['one_call_at_a_time_seconds_each'])}, {o['speedup_over_one_at_a_time']}x slower)")
    print(f"  account   : {a['apis']} APIs in {a['wall_seconds']:.3f} s, floor {a['floor_seconds']:.3f} s "
          f"(bucket {a['bottleneck']}), ratio {a['ratio_to_floor']}; {a['calls']} calls {a['calls_by_service']}; "
          f"{a['throttles']} throttled, {a['retries']} retried, {a['error_findings']} error finding(s), "
          f"peak RSS {a['peak_rss_mb']} MB, {a['requests_not_replayed']} not replayed")
    for pr in problems:
        print(f"  PROBLEM: {pr}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(fig, f, indent=2)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
