#!/usr/bin/env python3
"""Writes the example snapshots: one healthy REST API behind a VPC link (v1)
and one copy per cause of failure, each changed the way a real incident
changes it. Run it from anywhere; it rewrites the JSON files beside it.

The values imitate what `apigw-audit audit --record` writes against a real
account (ids, ARNs, states, reason codes); keep them that way.
"""
import copy
import json
import pathlib

HERE = pathlib.Path(__file__).resolve().parent
ACCOUNT = "123456789012"
REGION = "us-east-1"
API = "k7m2x9q4ab"
LINK = "vl7k2m"
NLB = f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:loadbalancer/net/orders-nlb/4f1c2e0d9a3b7c65"
NLB_DNS = "orders-nlb-4f1c2e0d9a3b7c65.elb.us-east-1.amazonaws.com"
LISTENER = f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:listener/net/orders-nlb/4f1c2e0d9a3b7c65/9e8d7c6b5a493827"
TG = f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:targetgroup/orders-app-8080/0a9b8c7d6e5f4a3b"
VPC = "vpc-0a1b2c3d4e5f67890"
NLB_SUBNETS = [("subnet-0a11aa22bb33cc44d", "us-east-1a", "10.20.1.0/24"),
               ("subnet-0b55dd66ee77ff88a", "us-east-1b", "10.20.2.0/24")]
APP_SUBNETS = [("subnet-0c99ee11dd22aa33f", "us-east-1a", "10.20.11.0/24"),
               ("subnet-0d44bb55cc66ee77b", "us-east-1b", "10.20.12.0/24")]
TARGETS = [("i-0a1b2c3d4e5f60001", 0, "10.20.11.37"), ("i-0a1b2c3d4e5f60002", 1, "10.20.12.84")]
SVC = "vpce-svc-0e4d1c2b3a4f5e6d7"


def ok(v):
    return {"ok": v}


def not_found(op, code, msg, action):
    return {"not_found": {"operation": op, "iam_action": action, "kind": "not_found", "code": code, "message": msg}}


def subnet(sid, az, cidr):
    return ok({"id": sid, "arn": f"arn:aws:ec2:{REGION}:{ACCOUNT}:subnet/{sid}", "vpc_id": VPC,
               "availability_zone": az, "cidr_block": cidr, "ipv6_cidr_blocks": []})


def entry(n, egress, proto, action, cidr, ports=None):
    return {"rule_number": n, "egress": egress, "protocol": proto, "action": action, "cidr_block": cidr,
            "ipv6_cidr_block": None, "from_port": ports[0] if ports else None, "to_port": ports[1] if ports else None}


DEFAULT_ACL = {"id": "acl-0f0e0d0c0b0a09080", "vpc_id": VPC, "owner_id": ACCOUNT, "is_default": True, "entries": [
    entry(100, False, "-1", "allow", "0.0.0.0/0"), entry(32767, False, "-1", "deny", "0.0.0.0/0"),
    entry(100, True, "-1", "allow", "0.0.0.0/0"), entry(32767, True, "-1", "deny", "0.0.0.0/0")]}
APP_ACL = {"id": "acl-0a9b8c7d6e5f40312", "vpc_id": VPC, "owner_id": ACCOUNT, "is_default": False, "entries": [
    entry(100, False, "6", "allow", "10.20.0.0/16", (8080, 8081)),
    entry(110, False, "6", "allow", "0.0.0.0/0", (1024, 65535)),
    entry(120, False, "6", "allow", "10.0.0.0/8", (22, 22)),
    entry(32767, False, "-1", "deny", "0.0.0.0/0"),
    entry(100, True, "6", "allow", "10.20.0.0/16", (1024, 65535)),
    entry(110, True, "6", "allow", "0.0.0.0/0", (443, 443)),
    entry(32767, True, "-1", "deny", "0.0.0.0/0")]}


def sg_rule(proto, lo, hi, cidrs=(), groups=(), pls=()):
    return {"protocol": proto, "from_port": lo, "to_port": hi, "ipv4_ranges": list(cidrs), "ipv6_ranges": [],
            "prefix_list_ids": list(pls), "group_ids": list(groups)}


ALL_OUT = [sg_rule("-1", None, None, ["0.0.0.0/0"])]
NLB_SG = {"id": "sg-0d1e2f3a4b5c6d7e8", "name": "orders-nlb", "vpc_id": VPC, "owner_id": ACCOUNT,
          "ingress": [sg_rule("tcp", 80, 80, ["10.20.0.0/16"])], "egress": ALL_OUT}
APP_SG = {"id": "sg-0a7b6c5d4e3f2a1b0", "name": "orders-app", "vpc_id": VPC, "owner_id": ACCOUNT,
          "ingress": [sg_rule("tcp", 8080, 8080, groups=[NLB_SG["id"]]),
                      sg_rule("tcp", 8081, 8081, groups=[NLB_SG["id"]]),
                      sg_rule("tcp", 22, 22, pls=["pl-0b1c2d3e4f5a6b7c8"])],
          "egress": ALL_OUT}


def route(method, path, rid, integration=None):
    return {"method": method, "path": path, "resource_id": rid, "route_id": None,
            "authorization_type": "NONE", "authorizer_id": None, "integration": integration}


def vpc_integration(path):
    return {"id": None, "integration_type": "HTTP_PROXY", "http_method": "ANY",
            "uri": f"http://{NLB_DNS}{path}", "connection_type": "VPC_LINK",
            "connection_id": "${stageVariables.vpcLinkId}", "integration_target": None,
            "tls_config": None, "timeout_ms": 29000, "request_parameters": {}}


MOCK = {"id": None, "integration_type": "MOCK", "http_method": None, "uri": None, "connection_type": "INTERNET",
        "connection_id": None, "integration_target": None, "tls_config": None, "timeout_ms": 29000,
        "request_parameters": {}}


def stage(name, deployment, level="INFO"):
    return {"name": name, "deployment_id": deployment, "variables": {"vpcLinkId": LINK},
            "method_settings": {"*/*": {"logging_level": level, "data_trace_enabled": False,
                                        "metrics_enabled": True}},
            "access_log": None, "auto_deploy": None}


def healthy():
    region = {
        "region": REGION,
        "apis": [{
            "id": API, "kind": "rest",
            "info": ok({"name": "orders-api", "endpoint_types": ["REGIONAL"], "policy": None,
                        "disable_execute_api_endpoint": False}),
            "stages": ok([stage("beta", "h3n8p1"), stage("prod", "d4x9k2")]),
            "routes": ok([
                route("GET", "/health", "r0h3a1", MOCK),
                route("GET", "/orders", "b7c1d2", vpc_integration("/orders")),
                route("POST", "/orders", "b7c1d2", vpc_integration("/orders")),
                route("GET", "/orders/{id}", "e4f5g6", vpc_integration("/orders/{id}")),
            ]),
        }],
        "apigateway_account": ok({"cloudwatch_role_arn": f"arn:aws:iam::{ACCOUNT}:role/apigateway-cloudwatch-logs"}),
        "vpc_links": {LINK: ok({"id": LINK, "name": "orders-nlb-link", "status": "AVAILABLE",
                                "status_message": "Your vpc link is ready for use", "target_arns": [NLB]})},
        "vpc_links_v2": {},
        "load_balancers": {NLB: ok({
            "arn": NLB, "name": "orders-nlb", "lb_type": "network", "scheme": "internal", "state": "active",
            "state_reason": None, "vpc_id": VPC, "dns_name": NLB_DNS,
            "zones": [{"zone_name": az, "subnet_id": sid} for sid, az, _ in NLB_SUBNETS],
            "security_groups": [NLB_SG["id"]], "enforce_privatelink_inbound_rules": "off"})},
        "load_balancer_attributes": {},
        "listeners": {NLB: ok([{"arn": LISTENER, "load_balancer_arn": NLB, "port": 80, "protocol": "TCP",
                                "default_actions": [{"action_type": "forward",
                                                     "target_groups": [{"arn": TG, "weight": 1}]}],
                                "certificate_arns": [], "ssl_policy": None}])},
        "listener_rules": {},
        "target_groups": {TG: ok({"arn": TG, "name": "orders-app-8080", "protocol": "TCP", "port": 8080,
                                  "target_type": "instance", "vpc_id": VPC, "load_balancer_arns": [NLB],
                                  "health_check": {"enabled": True, "protocol": "HTTP", "port": "8081",
                                                   "path": "/actuator/health"}})},
        "target_health": {TG: ok([{"target_id": iid, "port": 8080, "availability_zone": APP_SUBNETS[i][1],
                                   "state": "healthy", "reason": None, "description": None,
                                   "health_check_port": "8081"} for iid, i, _ in TARGETS])},
        "instances": {iid: ok({"id": iid, "state": "running", "vpc_id": VPC, "subnet_id": APP_SUBNETS[i][0],
                               "private_ip": ip, "availability_zone": APP_SUBNETS[i][1],
                               "security_groups": [APP_SG["id"]]}) for iid, i, ip in TARGETS},
        "network_interfaces": {},
        "subnets": {sid: subnet(sid, az, cidr) for sid, az, cidr in NLB_SUBNETS + APP_SUBNETS},
        "security_groups": {NLB_SG["id"]: ok(NLB_SG), APP_SG["id"]: ok(APP_SG)},
        "network_acls": {**{sid: ok(DEFAULT_ACL) for sid, _, _ in NLB_SUBNETS},
                         **{sid: ok(APP_ACL) for sid, _, _ in APP_SUBNETS}},
        "prefix_lists": {"pl-0b1c2d3e4f5a6b7c8": ok({"id": "pl-0b1c2d3e4f5a6b7c8", "name": "corp-bastions",
                                                    "cidrs": ["10.8.0.0/24", "10.9.0.0/24"]})},
        "endpoint_services": {NLB: ok({"service_id": SVC,
                                       "service_name": f"com.amazonaws.vpce.{REGION}.{SVC}",
                                       "state": "Available", "acceptance_required": False,
                                       "network_load_balancer_arns": [NLB]})},
        "endpoint_connections": {SVC: ok([{"vpc_endpoint_id": "vpce-0f1e2d3c4b5a69788", "owner": "392220576650",
                                           "state": "available"}])},
    }
    return {"schema_version": 1, "tool": {"name": "apigw-audit", "version": "0.1.0"},
            "recorded_at": "2026-11-20T14:32:07Z", "account": ACCOUNT, "regions": [region]}


def variant(mutate):
    snap = copy.deepcopy(healthy())
    mutate(snap["regions"][0])
    return snap


def vpc_link_failed(r):
    link = r["vpc_links"][LINK]["ok"]
    link["status"] = "FAILED"
    link["status_message"] = "NLB ARN is malformed or does not exist"


def endpoint_rejected(r):
    r["endpoint_connections"][SVC]["ok"][0]["state"] = "rejected"


def nlb_deleted(r):
    r["load_balancers"][NLB] = not_found("elasticloadbalancing:DescribeLoadBalancers", "LoadBalancerNotFound",
                                         "One or more load balancers not found",
                                         "elasticloadbalancing:DescribeLoadBalancers")
    for key in ("listeners", "target_groups", "target_health", "instances", "endpoint_services",
                "endpoint_connections"):
        r[key] = {}
    r["subnets"] = {}
    r["security_groups"] = {}
    r["network_acls"] = {}
    r["prefix_lists"] = {}


def no_listener(r):
    # The listener moved to 443 (TLS offload planned), the integrations still say http:// (port 80).
    listener = r["listeners"][NLB]["ok"][0]
    listener["port"] = 443
    listener["arn"] = listener["arn"].replace("9e8d7c6b5a493827", "3c2b1a0f9e8d7c6b")


def no_healthy_target(r):
    for t in r["target_health"][TG]["ok"]:
        t["state"] = "unhealthy"
        t["reason"] = "Target.ResponseCodeMismatch"
        t["description"] = "Health checks failed with these codes: [503]"


def target_sg_drops_port(r):
    # A cleanup removed the 8080 rule; health checks on 8081 still pass, so targets stay healthy.
    sg = r["security_groups"][APP_SG["id"]]["ok"]
    sg["ingress"] = [rule for rule in sg["ingress"] if rule["from_port"] != 8080]


def nacl_drops_return(r):
    # The app subnets' ACL admits replies only to the first NLB subnet; the NLB was
    # later extended to us-east-1b, whose node's connections now get no replies.
    acl = copy.deepcopy(APP_ACL)
    for e in acl["entries"]:
        if e["egress"] and e["rule_number"] == 100:
            e["cidr_block"] = "10.20.1.0/24"
    for sid, _, _ in APP_SUBNETS:
        r["network_acls"][sid] = ok(acl)


def privatelink_enforced(r):
    r["load_balancers"][NLB]["ok"]["enforce_privatelink_inbound_rules"] = "on"
    r["security_groups"][NLB_SG["id"]]["ok"]["ingress"] = [sg_rule("tcp", 443, 443, ["10.0.0.0/8"])]


def stage_var_missing_link(r):
    for s in r["apis"][0]["stages"]["ok"]:
        if s["name"] == "prod":
            s["variables"]["vpcLinkId"] = "vl0ld9"
    r["vpc_links"]["vl0ld9"] = not_found("apigateway:GetVpcLinks", None, "VPC link vl0ld9 is not among the region's VPC links",
                                         f"apigateway:GET on arn:aws:apigateway:{REGION}::/vpclinks")


def logging_off(r):
    for s in r["apis"][0]["stages"]["ok"]:
        s["method_settings"]["*/*"]["logging_level"] = "OFF"


EXAMPLES = {
    "rest-healthy": None,
    "rest-vpc-link-failed": vpc_link_failed,
    "rest-endpoint-connection-rejected": endpoint_rejected,
    "rest-nlb-deleted": nlb_deleted,
    "rest-no-listener-on-port": no_listener,
    "rest-no-healthy-target": no_healthy_target,
    "rest-target-sg-drops-port": target_sg_drops_port,
    "rest-nacl-drops-return": nacl_drops_return,
    "rest-privatelink-enforced": privatelink_enforced,
    "rest-stage-variable-missing-link": stage_var_missing_link,
    "rest-execution-logging-off": logging_off,
}

if __name__ == "__main__":
    for name, mutate in EXAMPLES.items():
        snap = healthy() if mutate is None else variant(mutate)
        (HERE / f"{name}.json").write_text(json.dumps(snap, indent=2) + "\n")
        print(f"wrote {name}.json")
