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
NLB_ATTRS = {"load_balancing.cross_zone.enabled": "false", "deletion_protection.enabled": "false",
             "dns_record.client_routing_policy": "any_availability_zone"}
NLB_TG_ATTRS = {"load_balancing.cross_zone.enabled": "use_load_balancer_configuration",
                "preserve_client_ip.enabled": "true", "deregistration_delay.timeout_seconds": "300",
                "proxy_protocol_v2.enabled": "false", "stickiness.enabled": "false", "stickiness.type": "source_ip"}
NLB_LISTENER_ATTRS = {"tcp.idle_timeout.seconds": "350", "proxy_protocol_v2.enabled": "false"}


def alb_attrs(idle):
    return {"idle_timeout.timeout_seconds": str(idle), "routing.http2.enabled": "true",
            "deletion_protection.enabled": "true", "routing.http.drop_invalid_header_fields.enabled": "false"}
NLB_SG = {"id": "sg-0d1e2f3a4b5c6d7e8", "name": "orders-nlb", "vpc_id": VPC, "owner_id": ACCOUNT,
          "ingress": [sg_rule("tcp", 80, 80, ["10.20.0.0/16"])], "egress": ALL_OUT}
APP_SG = {"id": "sg-0a7b6c5d4e3f2a1b0", "name": "orders-app", "vpc_id": VPC, "owner_id": ACCOUNT,
          "ingress": [sg_rule("tcp", 8080, 8080, groups=[NLB_SG["id"]]),
                      sg_rule("tcp", 8081, 8081, groups=[NLB_SG["id"]]),
                      sg_rule("tcp", 22, 22, pls=["pl-0b1c2d3e4f5a6b7c8"])],
          "egress": ALL_OUT}


def route(method, path, rid, integration=None, authorizer=None, api_key=False):
    return {"method": method, "path": path, "resource_id": rid, "route_id": None,
            "authorization_type": "CUSTOM" if authorizer else "NONE", "authorizer_id": authorizer,
            "integration": integration, "api_key_required": api_key}


AUTH_FN = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:orders-token-authorizer"
AUTHORIZER = {"id": "t7x2qa", "name": "orders-token", "authorizer_type": "TOKEN",
              "identity_sources": ["method.request.header.Authorization"],
              "authorizer_uri": f"arn:aws:apigateway:{REGION}:lambda:path/2015-03-31/functions/{AUTH_FN}/invocations",
              "credentials": None, "provider": []}


def invoke_policy(source_arn, fn=AUTH_FN):
    return json.dumps({"Version": "2012-10-17", "Id": "default", "Statement": [{
        "Sid": "apigateway-orders-api", "Effect": "Allow",
        "Principal": {"Service": "apigateway.amazonaws.com"}, "Action": "lambda:InvokeFunction",
        "Resource": fn, "Condition": {"ArnLike": {"AWS:SourceArn": source_arn}}}]})


# POST /refunds runs on a Lambda function (AWS_PROXY), as GetFunctionConfiguration,
# GetFunctionConcurrency and GetPolicy describe it: Active, 10 s, no reservation,
# invocable by API Gateway for POST /refunds on every stage.
REFUNDS_FN = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:orders-refunds"
REFUNDS = {"id": None, "integration_type": "AWS_PROXY", "http_method": "POST",
           "uri": f"arn:aws:apigateway:{REGION}:lambda:path/2015-03-31/functions/{REFUNDS_FN}/invocations",
           "connection_type": "INTERNET", "connection_id": None, "integration_target": None,
           "tls_config": None, "timeout_ms": 29000, "request_parameters": {}}


def refunds_function(source_arn):
    return ok({"arn": REFUNDS_FN, "policy": invoke_policy(source_arn, REFUNDS_FN), "state": "Active",
               "timeout_seconds": 10})


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
                                        "metrics_enabled": True, "throttling_rate_limit": 500.0,
                                        "throttling_burst_limit": 1000}},
            "access_log": None, "auto_deploy": None}


DIST = "E2QWRUHAPOMQZL"


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
                route("POST", "/orders", "b7c1d2", vpc_integration("/orders"), authorizer="t7x2qa"),
                route("GET", "/orders/{id}", "e4f5g6", vpc_integration("/orders/{id}")),
                route("POST", "/refunds", "f8r2d4", REFUNDS, api_key=True),
            ]),
            "authorizers": ok([AUTHORIZER]),
        }],
        # POST /refunds requires an API key: partners hold one, in a usage
        # plan serving both stages (GetUsagePlans, GetUsagePlanKeys, and
        # GetApiKeys for whether it is enabled).
        "usage_plans": ok([{
            "id": "u8p2l4", "name": "refund-partners",
            "api_stages": [{"api_id": API, "stage": "beta", "throttle": {}},
                           {"api_id": API, "stage": "prod", "throttle": {"/refunds/POST": {"rate_limit": 5.0, "burst_limit": 10}}}],
            "throttle": {"rate_limit": 50.0, "burst_limit": 100},
            "quota": {"limit": 100000, "period": "MONTH"},
            "keys": ok([{"id": "k5e7y9a1b3", "name": "partner-acme", "enabled": True}])}]),
        "lambda_functions": {AUTH_FN: ok({"arn": AUTH_FN, "policy": invoke_policy(
            f"arn:aws:execute-api:{REGION}:{ACCOUNT}:{API}/authorizers/*"), "state": "Active", "timeout_seconds": 5}),
            REFUNDS_FN: refunds_function(f"arn:aws:execute-api:{REGION}:{ACCOUNT}:{API}/*/POST/refunds")},
        "apigateway_account": ok({"cloudwatch_role_arn": f"arn:aws:iam::{ACCOUNT}:role/apigateway-cloudwatch-logs"}),
        "vpc_links": {LINK: ok({"id": LINK, "name": "orders-nlb-link", "status": "AVAILABLE",
                                "status_message": "Your vpc link is ready for use", "target_arns": [NLB]})},
        "vpc_links_v2": {},
        "load_balancers": {NLB: ok({
            "arn": NLB, "name": "orders-nlb", "lb_type": "network", "scheme": "internal", "state": "active",
            "state_reason": None, "vpc_id": VPC, "dns_name": NLB_DNS,
            "zones": [{"zone_name": az, "subnet_id": sid} for sid, az, _ in NLB_SUBNETS],
            "security_groups": [NLB_SG["id"]], "enforce_privatelink_inbound_rules": "off"})},
        # Cross-zone load balancing, which target-health reads: an NLB's
        # default (off), which the target group defers to.
        "load_balancer_attributes": {NLB: ok(NLB_ATTRS)},
        "listeners": {NLB: ok([{"arn": LISTENER, "load_balancer_arn": NLB, "port": 80, "protocol": "TCP",
                                "default_actions": [{"action_type": "forward",
                                                     "target_groups": [{"arn": TG, "weight": 1}]}],
                                "certificate_arns": [], "ssl_policy": None}])},
        "listener_rules": {},
        # Instance targets: idle-timeout cannot judge them and reads no attributes.
        "listener_attributes": {},
        "target_group_attributes": {TG: ok(NLB_TG_ATTRS)},
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
        # The NLB's node interfaces, one per enabled subnet, as
        # DescribeNetworkInterfaces finds them by description.
        "lb_interfaces": {NLB: ok([
            {"id": f"eni-0nlb{i}", "subnet_id": sid, "vpc_id": VPC, "private_ips": [ip], "security_groups": [],
             "description": "ELB net/orders-nlb/4f1c2e0d9a3b7c65"}
            for i, ((sid, _, _), ip) in enumerate(zip(NLB_SUBNETS, ["10.20.1.10", "10.20.2.10"]))])},
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
        # API Gateway's account, added when the link was created.
        "endpoint_service_permissions": {SVC: ok(["arn:aws:iam::392220576650:root"])},
        # The public face: a custom domain mapping /shop to prod, and a
        # CloudFront distribution in front of the execute-api host.
        "domain_names": ok([{"name": "api.orders.example.com",
                             "regional_domain_name": f"d-7h2k9x4m1q.execute-api.{REGION}.amazonaws.com",
                             "distribution_domain_name": None,
                             "mappings": [{"base_path": "shop", "api_id": API, "stage": "prod"}]}]),
        "distributions": ok([{
            "id": DIST, "arn": f"arn:aws:cloudfront::{ACCOUNT}:distribution/{DIST}",
            "domain_name": "d111111abcdef8.cloudfront.net", "aliases": ["orders.example.com"],
            "origins": [{"id": "orders-api", "domain_name": f"{API}.execute-api.{REGION}.amazonaws.com",
                         "origin_path": "/prod", "protocol_policy": "https-only", "https_port": 443,
                         "ssl_protocols": ["TLSv1.2"]}],
            # The managed origin request policy AllViewerExceptHostHeader.
            "behaviors": [{"path_pattern": "*", "target_origin_id": "orders-api",
                           "viewer_protocol_policy": "redirect-to-https",
                           "origin_request_policy_id": "b689b0a8-53d0-40ab-baf2-68738e2966ac"}],
        }]),
    }
    # Deep-copied so no example can change the shared dicts another uses.
    return copy.deepcopy({"schema_version": 1, "tool": {"name": "apigw-audit", "version": "0.1.0"},
                          "recorded_at": "2026-11-20T14:32:07Z", "account": ACCOUNT, "regions": [region]})


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


# ---- HTTP API, VPC link v2, ALB with rules, Cloud Map -------------------

HAPI = "h7r4n2k9pq"
LINK2 = "vl2ab3cd"
VPC2 = "vpc-0b2c3d4e5f6a78901"
ALB = f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:loadbalancer/app/catalog-alb/7a6b5c4d3e2f1a09"
ALB_LISTENER = f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:listener/app/catalog-alb/7a6b5c4d3e2f1a09/2b3c4d5e6f7a8b9c"
ALB_RULE = f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:listener-rule/app/catalog-alb/7a6b5c4d3e2f1a09/2b3c4d5e6f7a8b9c/5f4e3d2c1b0a9f8e"
ALB_DEFAULT_RULE = f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:listener-rule/app/catalog-alb/7a6b5c4d3e2f1a09/2b3c4d5e6f7a8b9c/0a1b2c3d4e5f6a7b"
TG_WEB = f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:targetgroup/catalog-web/1c2d3e4f5a6b7c8d"
TG_SEARCH = f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:targetgroup/catalog-search/9e8f7a6b5c4d3e2f"
SRV = f"arn:aws:servicediscovery:{REGION}:{ACCOUNT}:service/srv-6xq4f2mzk3a7b5c1"
LINK_SUBNETS = [("subnet-01a2b3c4d5e6f7081", "us-east-1a", "10.40.1.0/24"), ("subnet-02b3c4d5e6f708192", "us-east-1b", "10.40.2.0/24")]
ALB_SUBNETS = [("subnet-03c4d5e6f708192a3", "us-east-1a", "10.40.11.0/24"), ("subnet-04d5e6f708192a3b4", "us-east-1b", "10.40.12.0/24")]
WEB_SUBNETS = [("subnet-05e6f708192a3b4c5", "us-east-1a", "10.40.21.0/24"), ("subnet-06f708192a3b4c5d6", "us-east-1b", "10.40.22.0/24")]
SG_LINK = {"id": "sg-0c1d2e3f4a5b6c7d8", "name": "catalog-vpclink", "vpc_id": VPC2, "owner_id": ACCOUNT,
           "ingress": [], "egress": [sg_rule("tcp", 80, 80, groups=["sg-0e1f2a3b4c5d6e7f8"]),
                                      sg_rule("tcp", 8080, 8080, ["10.40.0.0/16"])]}
SG_ALB = {"id": "sg-0e1f2a3b4c5d6e7f8", "name": "catalog-alb", "vpc_id": VPC2, "owner_id": ACCOUNT,
          "ingress": [sg_rule("tcp", 80, 80, groups=[SG_LINK["id"]])],
          "egress": [sg_rule("tcp", 8080, 8080, groups=["sg-0f2a3b4c5d6e7f809"])]}
SG_WEB = {"id": "sg-0f2a3b4c5d6e7f809", "name": "catalog-web", "vpc_id": VPC2, "owner_id": ACCOUNT,
          "ingress": [sg_rule("tcp", 8080, 8080, groups=[SG_ALB["id"], SG_LINK["id"]])], "egress": ALL_OUT}
WEB_INSTANCES = [("i-0b1c2d3e4f5a60011", 0, "10.40.21.15"), ("i-0b1c2d3e4f5a60012", 1, "10.40.22.16")]
SEARCH_IPS = [("10.40.21.50", 0, "eni-0a1b2c3d4e5f60021"), ("10.40.22.60", 1, "eni-0a1b2c3d4e5f60022")]
INVENTORY = [("i-0c2d3e4f5a6b70031", "10.40.21.70", 0, "eni-0a1b2c3d4e5f60031"), ("i-0c2d3e4f5a6b70032", "10.40.22.71", 1, "eni-0a1b2c3d4e5f60032")]


def http_integration(iid, uri):
    return {"id": iid, "integration_type": "HTTP_PROXY", "http_method": "ANY", "uri": uri,
            "connection_type": "VPC_LINK", "connection_id": LINK2, "integration_target": None,
            "tls_config": None, "timeout_ms": 30000, "request_parameters": {}}


def http_route(key, rid, integration):
    method, path = key.split(" ", 1)
    return {"method": method, "path": path, "resource_id": None, "route_id": rid,
            "authorization_type": "NONE", "authorizer_id": None, "integration": integration,
            "api_key_required": None}


def health(tid, az, port=8080):
    return {"target_id": tid, "port": port, "availability_zone": az, "state": "healthy", "reason": None,
            "description": None, "health_check_port": str(port)}


def http_healthy():
    web = http_integration("k3j5h7", ALB_LISTENER)
    inv = http_integration("m9n8b7", SRV)
    region = {
        "region": REGION,
        "apis": [{
            "id": HAPI, "kind": "http",
            "info": ok({"name": "catalog-api", "endpoint_types": [], "policy": None,
                        "disable_execute_api_endpoint": False}),
            # Default route settings as GetStages reports them for a stage
            # throttled below the account's limits.
            "stages": ok([{"name": "prod", "deployment_id": "q2w3e4", "variables": {},
                           "method_settings": {"*/*": {"logging_level": None, "data_trace_enabled": None,
                                                       "metrics_enabled": None, "throttling_rate_limit": 200.0,
                                                       "throttling_burst_limit": 400}},
                           "access_log": {"destination_arn": f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/apigw/catalog-api/prod",
                                          "format": "$context.requestId $context.status $context.integrationErrorMessage"},
                           "auto_deploy": False}]),
            "routes": ok([
                http_route("GET /catalog/{proxy+}", "r1a2b3c", web),
                http_route("ANY /inventory/{proxy+}", "r4d5e6f", inv),
            ]),
        }],
        "apigateway_account": ok({"cloudwatch_role_arn": f"arn:aws:iam::{ACCOUNT}:role/apigateway-cloudwatch-logs"}),
        "vpc_links": {},
        "vpc_links_v2": {LINK2: ok({"id": LINK2, "name": "catalog-link", "status": "AVAILABLE",
                                    "status_message": "VPC link is ready to route traffic",
                                    "subnet_ids": [s for s, _, _ in LINK_SUBNETS],
                                    "security_group_ids": [SG_LINK["id"]]})},
        "load_balancers": {ALB: ok({
            "arn": ALB, "name": "catalog-alb", "lb_type": "application", "scheme": "internal", "state": "active",
            "state_reason": None, "vpc_id": VPC2, "dns_name": "internal-catalog-alb-1234567890.us-east-1.elb.amazonaws.com",
            "zones": [{"zone_name": az, "subnet_id": sid, "private_ipv4_addresses": []} for sid, az, _ in ALB_SUBNETS],
            "security_groups": [SG_ALB["id"]], "enforce_privatelink_inbound_rules": None})},
        # The ALB's idle timeout, which integration-timeout weighs against
        # the integrations' 30 s: the default 60 s.
        "load_balancer_attributes": {ALB: ok(alb_attrs(60))},
        "listeners": {ALB: ok([{"arn": ALB_LISTENER, "load_balancer_arn": ALB, "port": 80, "protocol": "HTTP",
                                "default_actions": [{"action_type": "forward", "target_groups": [{"arn": TG_WEB, "weight": 1}]}],
                                "certificate_arns": [], "ssl_policy": None}])},
        "listener_rules": {ALB_LISTENER: ok([
            {"arn": ALB_RULE, "priority": "10", "is_default": False,
             "actions": [{"action_type": "forward", "target_groups": [{"arn": TG_SEARCH, "weight": 100}]}]},
            {"arn": ALB_DEFAULT_RULE, "priority": "default", "is_default": True,
             "actions": [{"action_type": "forward", "target_groups": [{"arn": TG_WEB, "weight": 1}]}]},
        ])},
        "target_groups": {
            TG_WEB: ok({"arn": TG_WEB, "name": "catalog-web", "protocol": "HTTP", "port": 8080, "target_type": "instance",
                        "vpc_id": VPC2, "load_balancer_arns": [ALB],
                        "health_check": {"enabled": True, "protocol": "HTTP", "port": "traffic-port", "path": "/health"}}),
            TG_SEARCH: ok({"arn": TG_SEARCH, "name": "catalog-search", "protocol": "HTTP", "port": 8080, "target_type": "ip",
                           "vpc_id": VPC2, "load_balancer_arns": [ALB],
                           "health_check": {"enabled": True, "protocol": "HTTP", "port": "traffic-port", "path": "/health"}}),
        },
        "target_health": {
            TG_WEB: ok([health(iid, WEB_SUBNETS[i][1]) for iid, i, _ in WEB_INSTANCES]),
            TG_SEARCH: ok([health(ip, WEB_SUBNETS[i][1]) for ip, i, _ in SEARCH_IPS]),
        },
        "instances": {iid: ok({"id": iid, "state": "running", "vpc_id": VPC2, "subnet_id": WEB_SUBNETS[i][0],
                               "private_ip": ip, "availability_zone": WEB_SUBNETS[i][1],
                               "security_groups": [SG_WEB["id"]]}) for iid, i, ip in WEB_INSTANCES},
        "network_interfaces": {
            **{ip: ok([{"id": eni, "subnet_id": WEB_SUBNETS[i][0], "vpc_id": VPC2, "private_ips": [ip],
                        "security_groups": [SG_WEB["id"]], "description": "arn:aws:ecs:us-east-1:123456789012:attachment/search"}])
               for ip, i, eni in SEARCH_IPS},
            **{ip: ok([{"id": eni, "subnet_id": WEB_SUBNETS[i][0], "vpc_id": VPC2, "private_ips": [ip],
                        "security_groups": [SG_WEB["id"]], "description": "Primary network interface"}])
               for _, ip, i, eni in INVENTORY},
        },
        "subnets": {sid: subnet(sid, az, cidr) for sid, az, cidr in LINK_SUBNETS + ALB_SUBNETS},
        "security_groups": {g["id"]: ok(g) for g in (SG_LINK, SG_ALB, SG_WEB)},
        "network_acls": {sid: ok(dict(DEFAULT_ACL, id="acl-0e1d2c3b4a5f69788", vpc_id=VPC2))
                         for sid, _, _ in LINK_SUBNETS + ALB_SUBNETS + WEB_SUBNETS},
        "prefix_lists": {},
        "endpoint_services": {},
        "endpoint_connections": {},
        "cloud_map_services": {SRV: ok({"arn": SRV, "id": "srv-6xq4f2mzk3a7b5c1", "name": "inventory",
                                        "health_check": "custom",
                                        "instances": [{"id": iid, "ipv4": ip, "port": 8080, "health": "HEALTHY"}
                                                      for iid, ip, _, _ in INVENTORY]})},
    }
    return copy.deepcopy({"schema_version": 1, "tool": {"name": "apigw-audit", "version": "0.1.0"},
                          "recorded_at": "2026-11-20T14:41:52Z", "account": ACCOUNT, "regions": [region]})


def http_variant(mutate):
    snap = http_healthy()
    mutate(snap["regions"][0])
    return snap


def link_inactive(r):
    link = r["vpc_links_v2"][LINK2]["ok"]
    link["status"] = "INACTIVE"
    link["status_message"] = "VPC link is inactive because it has not been used for 60 days"


def link_sg_no_egress(r):
    # Egress tightened to HTTPS only: the link can no longer reach the ALB on 80 or the instances on 8080.
    r["security_groups"][SG_LINK["id"]]["ok"]["egress"] = [sg_rule("tcp", 443, 443, ["0.0.0.0/0"])]


def alb_rule_empty_group(r):
    # The search service was scaled to zero; the rule still forwards /catalog/search* to its group.
    r["target_health"][TG_SEARCH] = ok([])


def alb_idle_below_integration(r):
    """Someone lowered the ALB's idle timeout to 10 s; the integration
    still waits 30 s."""
    r["load_balancer_attributes"][ALB] = ok(alb_attrs(10))


def cloud_map_unhealthy(r):
    for i in r["cloud_map_services"][SRV]["ok"]["instances"]:
        i["health"] = "UNHEALTHY"


# ---- REST API on VPC link v2 (integrationTarget) --------------------------

RAPI2 = "r2v9x3m5tq"
NLB2 = f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:loadbalancer/net/billing-nlb/3d4e5f6a7b8c9d0e"
NLB2_LISTENER = f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:listener/net/billing-nlb/3d4e5f6a7b8c9d0e/4e5f6a7b8c9d0e1f"
TG_BILL = f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:targetgroup/billing-app/5f6a7b8c9d0e1f2a"


def rest_v2_healthy():
    snap = http_healthy()
    r = snap["regions"][0]
    integ = {"id": None, "integration_type": "HTTP_PROXY", "http_method": "ANY",
             "uri": "http://billing.internal.example:8443/invoices", "connection_type": "VPC_LINK",
             "connection_id": LINK2, "integration_target": NLB2, "tls_config": None, "timeout_ms": 29000,
             "request_parameters": {}}
    r["apis"] = [{
        "id": RAPI2, "kind": "rest",
        "info": ok({"name": "billing-api", "endpoint_types": ["REGIONAL"], "policy": None,
                    "disable_execute_api_endpoint": False}),
        "stages": ok([dict(stage("prod", "t5y6u7"), variables={})]),
        "routes": ok([route("GET", "/invoices", "c1d2e3", integ), route("POST", "/invoices", "c1d2e3", integ)]),
    }]
    nlb = {"arn": NLB2, "name": "billing-nlb", "lb_type": "network", "scheme": "internal", "state": "active",
           "state_reason": None, "vpc_id": VPC2, "dns_name": "billing-nlb-3d4e5f6a7b8c9d0e.elb.us-east-1.amazonaws.com",
           "zones": [{"zone_name": az, "subnet_id": sid, "private_ipv4_addresses": []} for sid, az, _ in ALB_SUBNETS],
           "security_groups": [SG_ALB["id"]], "enforce_privatelink_inbound_rules": "on"}
    r["load_balancers"] = {NLB2: ok(nlb)}
    r["listeners"] = {NLB2: ok([{"arn": NLB2_LISTENER, "load_balancer_arn": NLB2, "port": 8443, "protocol": "TCP",
                                 "default_actions": [{"action_type": "forward", "target_groups": [{"arn": TG_BILL, "weight": None}]}],
                                 "certificate_arns": [], "ssl_policy": None}])}
    r["listener_rules"] = {}
    r["load_balancer_attributes"] = {NLB2: ok(NLB_ATTRS)}
    r["listener_attributes"] = {}
    r["target_groups"] = {TG_BILL: ok({"arn": TG_BILL, "name": "billing-app", "protocol": "TCP", "port": 8080,
                                       "target_type": "instance", "vpc_id": VPC2, "load_balancer_arns": [NLB2],
                                       "health_check": {"enabled": True, "protocol": "TCP", "port": "traffic-port", "path": None}})}
    # What AWS reports for an NLB's instance target group: client IP
    # preservation on by default, so the targets see the link's interfaces.
    r["target_group_attributes"] = {TG_BILL: ok(NLB_TG_ATTRS)}
    r["target_health"] = {TG_BILL: ok([health(iid, WEB_SUBNETS[i][1]) for iid, i, _ in WEB_INSTANCES])}
    r["network_interfaces"] = {}
    r["cloud_map_services"] = {}
    sg_nlb = copy.deepcopy(SG_ALB)
    sg_nlb["ingress"] = [sg_rule("tcp", 8443, 8443, groups=[SG_LINK["id"]])]
    r["security_groups"][SG_ALB["id"]] = ok(sg_nlb)
    r["security_groups"][SG_LINK["id"]]["ok"]["egress"] = [sg_rule("tcp", 8443, 8443, groups=[SG_ALB["id"]])]
    return snap


# ---- REST v1 through an NLB whose target group holds an ALB -------------

TG_ALB = f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:targetgroup/orders-to-alb/6a7b8c9d0e1f2a3b"
ALB_CHAIN = f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:loadbalancer/app/orders-alb/8b9c0d1e2f3a4b5c"
ALB_CHAIN_LISTENER = f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:listener/app/orders-alb/8b9c0d1e2f3a4b5c/9c0d1e2f3a4b5c6d"
TG_CHAIN_APP = f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:targetgroup/orders-app-http/7b8c9d0e1f2a3b4c"
ALB_CHAIN_SUBNETS = [("subnet-0e5f6a7b8c9d0e1f2", "us-east-1a", "10.20.31.0/24"), ("subnet-0f6a7b8c9d0e1f2a3", "us-east-1b", "10.20.32.0/24")]


def nlb_alb_healthy():
    snap = healthy()
    r = snap["regions"][0]
    # The NLB forwards TCP 80 to the ALB, which routes HTTP to the app.
    r["listeners"][NLB]["ok"][0]["default_actions"] = [{"action_type": "forward", "target_groups": [{"arn": TG_ALB, "weight": 1}]}]
    r["target_groups"] = {
        TG_ALB: ok({"arn": TG_ALB, "name": "orders-to-alb", "protocol": "TCP", "port": 80, "target_type": "alb",
                    "vpc_id": VPC, "load_balancer_arns": [NLB],
                    "health_check": {"enabled": True, "protocol": "HTTP", "port": "traffic-port", "path": "/health"}}),
        TG_CHAIN_APP: ok({"arn": TG_CHAIN_APP, "name": "orders-app-http", "protocol": "HTTP", "port": 8080,
                          "target_type": "instance", "vpc_id": VPC, "load_balancer_arns": [ALB_CHAIN],
                          "health_check": {"enabled": True, "protocol": "HTTP", "port": "8081", "path": "/actuator/health"}}),
    }
    r["target_health"] = {
        TG_ALB: ok([health(ALB_CHAIN, "all", 80)]),
        TG_CHAIN_APP: ok([dict(health(iid, APP_SUBNETS[i][1]), health_check_port="8081") for iid, i, _ in TARGETS]),
    }
    sg_alb = {"id": "sg-0b8c9d0e1f2a3b4c5", "name": "orders-alb", "vpc_id": VPC, "owner_id": ACCOUNT,
              "ingress": [sg_rule("tcp", 80, 80, groups=[NLB_SG["id"]])],
              "egress": [sg_rule("tcp", 8080, 8081, groups=[APP_SG["id"]])]}
    r["security_groups"][sg_alb["id"]] = ok(sg_alb)
    app = r["security_groups"][APP_SG["id"]]["ok"]
    app["ingress"] = [sg_rule("tcp", 8080, 8081, groups=[sg_alb["id"]])]
    r["load_balancers"][ALB_CHAIN] = ok({
        "arn": ALB_CHAIN, "name": "orders-alb", "lb_type": "application", "scheme": "internal", "state": "active",
        "state_reason": None, "vpc_id": VPC, "dns_name": "internal-orders-alb-987654321.us-east-1.elb.amazonaws.com",
        "zones": [{"zone_name": az, "subnet_id": sid, "private_ipv4_addresses": []} for sid, az, _ in ALB_CHAIN_SUBNETS],
        "security_groups": [sg_alb["id"]], "enforce_privatelink_inbound_rules": None})
    r["listeners"][ALB_CHAIN] = ok([{"arn": ALB_CHAIN_LISTENER, "load_balancer_arn": ALB_CHAIN, "port": 80,
                                     "protocol": "HTTP", "default_actions": [{"action_type": "forward",
                                     "target_groups": [{"arn": TG_CHAIN_APP, "weight": 1}]}],
                                     "certificate_arns": [], "ssl_policy": None}])
    r["listener_rules"][ALB_CHAIN_LISTENER] = ok([])
    r["load_balancer_attributes"][ALB_CHAIN] = ok(alb_attrs(400))
    # The NLB's group holds an ALB, not instances: no zone analysis reads
    # the NLB's cross-zone setting, and the instance group is gone.
    del r["load_balancer_attributes"][NLB]
    r["target_group_attributes"] = {}
    # The NLB in front of the ALB: idle-timeout compares the two.
    r["listener_attributes"][LISTENER] = ok(NLB_LISTENER_ATTRS)
    for sid, az, cidr in ALB_CHAIN_SUBNETS:
        r["subnets"][sid] = subnet(sid, az, cidr)
        r["network_acls"][sid] = ok(DEFAULT_ACL)
    # The app ACL admits 8080-8081 from the VPC, so the ALB's subnets too.
    return snap



# ---- TLS, protocol, idle timeout, deployment ------------------------------

CERTS = HERE / "certs"
ORDERS_HOST = "orders.internal.example.com"
TLS_LISTENER = f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:listener/net/orders-nlb/4f1c2e0d9a3b7c65/6a5b4c3d2e1f0a98"


def acm(arn_id, names, pem, chain, cert_type, not_before, not_after):
    return ok({"arn": f"arn:aws:acm:{REGION}:{ACCOUNT}:certificate/{arn_id}", "domain_name": names[0],
               "subject_alternative_names": names, "status": "ISSUED", "cert_type": cert_type,
               "not_before": not_before, "not_after": not_after, "pem": pem, "chain_pem": chain})


def tls_orders(cert):
    """The orders API on https:// through a TLS listener on 443 holding `cert`."""
    snap = healthy()
    r = snap["regions"][0]
    for rt in r["apis"][0]["routes"]["ok"]:
        if rt["integration"]["connection_type"] == "VPC_LINK":
            rt["integration"]["uri"] = rt["integration"]["uri"].replace(f"http://{NLB_DNS}", f"https://{ORDERS_HOST}")
    arn = cert["ok"]["arn"]
    r["listeners"][NLB]["ok"] = [{"arn": TLS_LISTENER, "load_balancer_arn": NLB, "port": 443, "protocol": "TLS",
                                  "default_actions": [{"action_type": "forward", "target_groups": [{"arn": TG, "weight": 1}]}],
                                  "certificate_arns": [arn], "ssl_policy": "ELBSecurityPolicy-TLS13-1-2-2021-06"}]
    # A TLS listener's idle timeout is fixed at 350 s: nothing reads its attributes.
    r["listener_attributes"] = {}
    r["listener_certificates"] = {TLS_LISTENER: ok([{"arn": arn, "is_default": True}])}
    r["certificates"] = {arn: cert}
    r["security_groups"][NLB_SG["id"]]["ok"]["ingress"] = [sg_rule("tcp", 443, 443, ["10.20.0.0/16"])]
    return snap


def tls_hostname_mismatch():
    # A public certificate (the real aws.amazon.com chain, imported), valid on
    # the day of the snapshot, for names that do not cover the integration host.
    leaf = (CERTS / "aws.amazon.com.leaf.pem").read_text()
    chain = (CERTS / "aws.amazon.com.chain.pem").read_text()
    names = ["aws.amazon.com", "aws-us-west-2.amazon.com", "www.aws.amazon.com", "1.aws-lbr.amazonaws.com",
             "amazonaws-china.com", "www.amazonaws-china.com", "aws-us-east-1.amazon.com"]
    snap = tls_orders(acm("3f1e2d4c-5b6a-4789-8abc-def012345678", names, leaf, chain, "IMPORTED",
                          "2025-11-06T00:00:00Z", "2026-10-17T23:59:59Z"))
    snap["recorded_at"] = "2026-08-12T09:14:03Z"
    return snap


def tls_self_signed():
    pem = (CERTS / "orders-self-signed.pem").read_text()
    return tls_orders(acm("7c6b5a49-3827-4165-9f8e-7d6c5b4a3928", [ORDERS_HOST], pem, None, "IMPORTED",
                          "2026-03-01T00:00:00Z", "2027-04-01T00:00:00Z"))


def plain_http_behind_passthrough():
    # https:// to a TCP listener passing TLS through, to targets whose health
    # check (HTTP on the traffic port) shows they speak plain HTTP.
    snap = healthy()
    r = snap["regions"][0]
    for rt in r["apis"][0]["routes"]["ok"]:
        if rt["integration"]["connection_type"] == "VPC_LINK":
            rt["integration"]["uri"] = rt["integration"]["uri"].replace("http://", "https://")
    listener = r["listeners"][NLB]["ok"][0]
    listener["port"] = 443
    r["target_groups"][TG]["ok"]["health_check"] = {"enabled": True, "protocol": "HTTP", "port": "traffic-port",
                                                    "path": "/actuator/health"}
    r["security_groups"][NLB_SG["id"]]["ok"]["ingress"] = [sg_rule("tcp", 443, 443, ["10.20.0.0/16"])]
    for t in r["target_health"][TG]["ok"]:
        t["health_check_port"] = "8080"
    return snap


def alb_idle_shorter():
    snap = nlb_alb_healthy()
    snap["regions"][0]["load_balancer_attributes"][ALB_CHAIN] = ok(alb_attrs(60))
    return snap


def undeployed_fix():
    # The NLB's listener moved to 8080 and the integrations were fixed to
    # match, but the stage was never redeployed: it still serves port 80.
    snap = healthy()
    r = snap["regions"][0]
    r["listeners"][NLB]["ok"][0]["port"] = 8080
    ensure_deployed(snap)
    for rt in r["apis"][0]["routes"]["ok"]:
        if rt["integration"]["connection_type"] == "VPC_LINK":
            rt["integration"]["uri"] = rt["integration"]["uri"].replace(NLB_DNS, f"{NLB_DNS}:8080")
    return snap


def ensure_deployed(snap):
    """What a recording always holds: each stage's deployed definition (the
    current one, unless the example says otherwise) and the account-wide
    listings, empty unless the example fills them."""
    for region in snap["regions"]:
        for api in region["apis"]:
            if "deployed_routes" not in api:
                api["deployed_routes"] = {st["name"]: copy.deepcopy(api["routes"]) for st in api["stages"]["ok"]}
        region.setdefault("distributions", ok([]))
        region.setdefault("domain_names", ok([]))
    return snap


def authorizer_without_permission(r):
    # The function was redeployed by a template that dropped its permission.
    r["lambda_functions"][AUTH_FN]["ok"]["policy"] = None


def resource_policy_denies(r):
    policy = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": "*", "Action": "execute-api:Invoke", "Resource": "execute-api:/*"},
        {"Sid": "freeze-writes", "Effect": "Deny", "Principal": "*", "Action": "execute-api:Invoke",
         "Resource": "execute-api:/*/POST/orders"}]}
    # API Gateway returns the policy as an escaped JSON string.
    r["apis"][0]["info"]["ok"]["policy"] = json.dumps(policy).replace('"', '\\"')


def cloudfront_http_only(r):
    # Someone "fixed" a TLS error at the origin by switching it to HTTP.
    r["distributions"]["ok"][0]["origins"][0]["protocol_policy"] = "http-only"


def cloudfront_forwards_host(r):
    """The default behavior moved to the managed AllViewer policy so that
    the Authorization header reaches the API: it forwards Host too."""
    r["distributions"]["ok"][0]["behaviors"][0]["origin_request_policy_id"] = "216adef6-5c7f-47e4-b989-5492eafa07d3"


def lambda_wrong_source_arn(r):
    """The refunds function's permission names a path the API does not have
    (the resource was renamed from /refund to /refunds)."""
    r["lambda_functions"][REFUNDS_FN] = refunds_function(
        f"arn:aws:execute-api:{REGION}:{ACCOUNT}:{API}/*/POST/refund")


def execute_api_disabled(r):
    """The default endpoint turned off while CloudFront still uses it."""
    r["apis"][0]["info"]["ok"]["disable_execute_api_endpoint"] = True


def api_key_plan_beta_only(r):
    """The usage plan of POST /refunds was created for beta and prod was
    never added to it: partners calling prod get 403."""
    plan = r["usage_plans"]["ok"][0]
    plan["api_stages"] = [s for s in plan["api_stages"] if s["stage"] == "beta"]


def stage_throttled_to_zero(r):
    """A load test left prod's default burst at 0: every call 429."""
    for st in r["apis"][0]["stages"]["ok"]:
        if st["name"] == "prod":
            st["method_settings"]["*/*"]["throttling_burst_limit"] = 0


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
    "rest-authorizer-no-permission": authorizer_without_permission,
    "rest-resource-policy-deny": resource_policy_denies,
    "rest-cloudfront-http-only": cloudfront_http_only,
    "rest-execute-api-disabled": execute_api_disabled,
    "rest-cloudfront-forwards-host": cloudfront_forwards_host,
    "rest-lambda-permission-for-another-path": lambda_wrong_source_arn,
    "rest-api-key-stage-in-no-usage-plan": api_key_plan_beta_only,
    "rest-stage-throttled-to-zero": stage_throttled_to_zero,
}


BUILT = {
    "http-healthy": http_healthy,
    "http-vpc-link-inactive": lambda: http_variant(link_inactive),
    "http-link-sg-no-egress": lambda: http_variant(link_sg_no_egress),
    "http-alb-rule-empty-target-group": lambda: http_variant(alb_rule_empty_group),
    "http-cloud-map-no-healthy-instance": lambda: http_variant(cloud_map_unhealthy),
    "http-alb-idle-below-integration-timeout": lambda: http_variant(alb_idle_below_integration),
    "rest-vpc-link-v2-healthy": rest_v2_healthy,
    "rest-nlb-to-alb-healthy": nlb_alb_healthy,
    "rest-tls-hostname-mismatch": tls_hostname_mismatch,
    "rest-tls-self-signed": tls_self_signed,
    "rest-tls-plain-http-target": plain_http_behind_passthrough,
    "rest-nlb-to-alb-idle-timeout": alb_idle_shorter,
    "rest-undeployed-fix": undeployed_fix,
}

def with_route_tables(snap):
    """Every subnet the snapshot names gets its VPC's main route table (a
    local route for the VPC's /16, and a default route to a NAT gateway), as
    DescribeRouteTables returns it for a subnet with no table of its own."""
    r = snap["regions"][0]
    where = {}
    for sid, sub in r.get("subnets", {}).items():
        if "ok" in sub and sub["ok"].get("cidr_block"):
            where[sid] = sub["ok"]["cidr_block"]
    for inst in r.get("instances", {}).values():
        if "ok" in inst and inst["ok"].get("subnet_id"):
            where.setdefault(inst["ok"]["subnet_id"], inst["ok"]["private_ip"])
    for enis in r.get("network_interfaces", {}).values():
        for e in enis.get("ok", []) or []:
            if e.get("subnet_id") and e.get("private_ips"):
                where.setdefault(e["subnet_id"], e["private_ips"][0])
    tables = {}
    for sid, addr in sorted(where.items()):
        a, b = addr.split(".")[:2]
        vpc = VPC if (a, b) == ("10", "20") else VPC2
        tables[sid] = ok({"id": f"rtb-0main{a}{b}", "vpc_id": vpc, "main": True, "routes": [
            {"destination": f"{a}.{b}.0.0/16", "target": "local", "state": "active"},
            {"destination": "0.0.0.0/0", "target": f"nat-0{a}{b}a1b2c3d4e5f6", "state": "active"}]})
    r["route_tables"] = tables
    return snap


if __name__ == "__main__":
    for name, mutate in EXAMPLES.items():
        snap = healthy() if mutate is None else variant(mutate)
        (HERE / f"{name}.json").write_text(json.dumps(with_route_tables(ensure_deployed(snap)), indent=2) + "\n")
        print(f"wrote {name}.json")
    for name, build in BUILT.items():
        (HERE / f"{name}.json").write_text(json.dumps(with_route_tables(ensure_deployed(build())), indent=2) + "\n")
        print(f"wrote {name}.json")
