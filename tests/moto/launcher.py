#!/usr/bin/env python3
"""Runs moto's server on 127.0.0.1 for apigw-audit's end-to-end tests.

moto 5.2.5 cannot produce several states the tests must reach, so a few
places are patched before the server starts. Every patch is driven by
ordinary AWS calls (tags), never by a side channel:

* API Gateway v1 ``put_integration`` drops ``connectionId`` and
  ``integrationTarget``: they are kept and returned.
* VPC links (v1 and v2) are always AVAILABLE: the tag
  ``apigw-audit-test:status`` (and ``apigw-audit-test:status-message``) sets
  the status, and v1 ``TagResource`` on a VPC link ARN is accepted.
* Targets are healthy unless stopped: the EC2 instance tag
  ``apigw-audit-test:health`` = ``STATE[:REASON]`` sets the target's health.
* REST deployments do not snapshot the API and ``GetExport`` returns no
  integrations: ``CreateDeployment`` now records the resources, methods and
  integrations it deploys, and ``GetExport`` returns that record for the
  stage's deployment, with ``x-amazon-apigateway-integration`` and each
  method's authorization as a security requirement (as
  ``extensions=apigateway`` exports it).
* HTTP API ``ExportApi`` is not implemented: it returns the API's routes,
  integrations and authorization (moto's HTTP API deployments do not
  snapshot either).
* HTTP API ``GetAuthorizers`` (the listing) is not implemented: it returns
  the API's authorizers.
* EC2 filters on many-valued attributes match only when one set contains
  the other: they match on any common value, as EC2 does.
* NLB target groups report no ``preserve_client_ip.enabled`` attribute:
  TCP, TLS, UDP and TCP_UDP groups report it as AWS does (``true`` for
  instance targets and for UDP and TCP_UDP groups, ``false`` for IP targets
  over TCP and TLS), and ``ModifyTargetGroupAttributes`` changes it.
* Load balancers own no network interfaces: creating a Network Load
  Balancer creates one interface per subnet, described ``ELB `` and the
  ARN's ``TYPE/NAME/ID`` as AWS describes a node's, so
  DescribeNetworkInterfaces finds the node addresses.
* ``DescribeVpcEndpointConnections`` is not implemented: every endpoint
  service configuration reports one connection from an API Gateway-owned
  endpoint, whose state is the service's tag
  ``apigw-audit-test:connection-state`` (default ``available``) and whose
  owner is API Gateway's account for the region (the tag
  ``apigw-audit-test:connection-owner`` names another consumer instead).

Faults: with ``--faults-dir DIR``, a request signed with access key K is
answered from ``DIR/K.json`` when that file names its operation, e.g.
``{"ec2:DescribeNetworkAcls": "access-denied"}``; the tool under test runs
with its own key, so the scenario builder and parallel tests are unaffected.
Faults: ``access-denied``, ``throttle``, ``http-500``, ``http-503``,
``malformed`` (a body no parser accepts), ``truncated`` (half the real
answer, then the connection drops), ``reset`` (the connection is closed, with an RST, before any
byte of the answer), ``slow:SECONDS``, ``trickle:SECONDS`` (the real
answer, whole, in ten pieces spread over SECONDS), and ``second-page`` (the real answer
gains a pagination token, as a listing with more results has, and the
request for that next page fails with HTTP 500). A key ``REGION/service:Operation`` scopes a fault to one region (from the
request's credential scope). ``once:FAULT`` applies FAULT
to the key's first request of that operation only, as a transient error
whose retry succeeds. The same file
can add latency to every request (``"_delay_ms": 50``) and AWS-like token
buckets (``"_buckets": {"apigateway": [10, 40], "ec2:*": [20, 100]}``):
a request that finds a bucket empty gets the service's throttling error.

Usage: launcher.py [--port N] [--request-log FILE] [--faults-dir DIR]
Prints ``LISTENING <port>`` on stdout once it accepts connections, and
exits when its stdin closes, so a test process that dies takes it along.
"""
import argparse
import hashlib
import io
import json
import os
import re
import socket
import struct
import sys
import threading
import time
from urllib.parse import parse_qs, unquote

TAG = "apigw-audit-test:"
# API Gateway's endpoint-owning account per region, as the Developer
# Guide's "API Gateway account IDs for VPC links" lists them (the tests and
# the benchmark build in several regions).
APIGW_ENDPOINT_OWNERS = {
    "us-east-1": "392220576650", "us-east-2": "718770453195", "us-west-1": "968246515281",
    "us-west-2": "109351309407", "ca-central-1": "796887884028", "eu-west-1": "631144002099",
    "eu-west-2": "544388816663", "eu-west-3": "061510835048", "eu-central-1": "474240146802",
    "eu-central-2": "166639821150", "eu-north-1": "394634713161", "eu-south-1": "753362059629",
    "eu-south-2": "359345898052", "ap-northeast-1": "969236854626", "ap-northeast-2": "020402002396",
    "ap-northeast-3": "360671645888", "ap-southeast-1": "195145609632", "ap-southeast-2": "798376113853",
    "ap-southeast-3": "652364314486", "ap-southeast-4": "849137399833", "ap-south-1": "507069717855",
    "ap-south-2": "644042651268", "ap-east-1": "174803364771", "sa-east-1": "287228555773",
    "me-south-1": "855739686837", "me-central-1": "614065512851",
}


def patch_apigateway():
    from moto.apigateway import models as m
    from moto.apigateway import responses as r
    from moto.apigateway import urls as u

    # Route tag calls on VPC link ARNs (moto routes only stage ARNs).
    u.url_paths[
        "{0}/tags/arn:(?P<partition>[^/]+):apigateway:(?P<region_name>[^/]+)::/vpclinks/(?P<vpclink_id>[^/]+)$"
    ] = r.APIGatewayResponse.dispatch

    orig_put = r.APIGatewayResponse.put_integration

    def put_integration(self):
        status, headers, _ = orig_put(self)
        parts = self.path.split("/")
        api_id, resource_id, method = parts[2], parts[4], parts[6]
        integration = self.backend.get_integration(api_id, resource_id, method)
        integration.connection_id = self._get_param("connectionId")
        integration.integration_target = self._get_param("integrationTarget")
        return status, headers, json.dumps(integration.to_json())

    r.APIGatewayResponse.put_integration = put_integration

    orig_integration_json = m.Integration.to_json

    def integration_to_json(self):
        d = orig_integration_json(self)
        if getattr(self, "connection_id", None):
            d["connectionId"] = self.connection_id
        if getattr(self, "integration_target", None):
            d["integrationTarget"] = self.integration_target
        return d

    m.Integration.to_json = integration_to_json

    orig_link_json = m.VpcLink.to_json

    def link_to_json(self):
        d = orig_link_json(self)
        tags = self.tags if isinstance(self.tags, dict) else {}
        if TAG + "status" in tags:
            d["status"] = tags[TAG + "status"]
        if TAG + "status-message" in tags:
            d["statusMessage"] = tags[TAG + "status-message"]
        return d

    m.VpcLink.to_json = link_to_json

    orig_tag = r.APIGatewayResponse.tag_resource

    def tag_resource(self):
        arn = unquote(self.path.split("/tags/")[1])
        if "/vpclinks/" in arn:
            link = self.backend.vpc_links[arn.rsplit("/", 1)[1]]
            tags = link.tags if isinstance(link.tags, dict) else {}
            tags.update(self._get_param("tags") or {})
            link.tags = tags
            return json.dumps({})
        return orig_tag(self)

    r.APIGatewayResponse.tag_resource = tag_resource


def security_scheme(authorizer):
    """The security scheme an export declares for an authorizer, as API
    Gateway writes it (with the extensions of extensions=apigateway)."""
    kind = (authorizer.type or "").upper()
    header = "Authorization"
    source = authorizer.identity_source or ""
    if source.startswith("method.request.header."):
        header = source.split(".", 3)[3].split(",")[0]
    return {"type": "apiKey", "name": header, "in": "header",
            "x-amazon-apigateway-authtype": "cognito_user_pools" if kind == "COGNITO_USER_POOLS" else "custom",
            "x-amazon-apigateway-authorizer": {"type": kind.lower(), "authorizerUri": authorizer.authorizer_uri,
                                               "identitySource": authorizer.identity_source}}


def rest_export(api):
    """An OpenAPI document of a REST API's current resources, as GetExport
    with extensions=apigateway returns it: integrations, and each method's
    authorization and API key requirement as security requirements naming
    their schemes."""
    paths = {}
    schemes = {}
    for res in api.resources.values():
        ops = {}
        for verb, method in res.resource_methods.items():
            op = {"responses": {}}
            auth = (method.authorization_type or "NONE").upper()
            if auth == "AWS_IAM":
                op["security"] = [{"sigv4": []}]
                schemes["sigv4"] = {"type": "apiKey", "name": "Authorization", "in": "header",
                                    "x-amazon-apigateway-authtype": "awsSigv4"}
            elif auth in ("CUSTOM", "COGNITO_USER_POOLS") and method.authorizer_id in api.authorizers:
                a = api.authorizers[method.authorizer_id]
                op["security"] = [{a.name: []}]
                schemes[a.name] = security_scheme(a)
            if getattr(method, "api_key_required", False):
                # API Gateway exports apiKeyRequired as a requirement on the
                # x-api-key scheme, beside the authorizer's.
                op.setdefault("security", [{}])[0]["api_key"] = []
                schemes["api_key"] = {"type": "apiKey", "name": "x-api-key", "in": "header"}
            i = method.method_integration
            if i is not None:
                ext = {"type": (i.integration_type or "").lower(), "uri": i.uri,
                       "passthroughBehavior": "when_no_match",
                       "connectionType": i.connection_type or "INTERNET",
                       "timeoutInMillis": int(i.timeout_in_millis or 29000)}
                if i.http_method:
                    ext["httpMethod"] = i.http_method
                if getattr(i, "connection_id", None):
                    ext["connectionId"] = i.connection_id
                if getattr(i, "integration_target", None):
                    ext["integrationTarget"] = i.integration_target
                if i.tls_config:
                    ext["tlsConfig"] = i.tls_config
                op["x-amazon-apigateway-integration"] = ext
            ops["x-amazon-apigateway-any-method" if verb == "ANY" else verb.lower()] = op
        paths[res.get_path()] = ops
    doc = {"openapi": "3.0.1", "info": {"title": api.name, "version": "1"}, "paths": paths}
    if schemes:
        doc["components"] = {"securitySchemes": schemes}
    return doc


def patch_apigateway_deployments():
    import copy

    from moto.apigateway import models as m
    from moto.apigateway import responses as r

    orig = m.RestAPI.create_deployment

    def create_deployment(self, name, description="", stage_variables=None):
        d = orig(self, name, description, stage_variables)
        d.apigw_audit_snapshot = copy.deepcopy(rest_export(self))
        return d

    m.RestAPI.create_deployment = create_deployment

    def get_export(self):
        parts = self.path.split("/")
        api = self.backend.get_rest_api(parts[-5])
        stage = api.stages.get(unquote(parts[-3]))
        if stage is None:
            return 404, {"x-amzn-ErrorType": "NotFoundException"}, json.dumps({"message": "Invalid stage identifier specified"})
        deployment = api.deployments.get(stage.deployment_id)
        doc = getattr(deployment, "apigw_audit_snapshot", None) or rest_export(api)
        return 200, {"Content-Type": "application/json"}, json.dumps(doc)

    r.APIGatewayResponse.get_export = get_export


def patch_apigatewayv2():
    from moto.apigatewayv2 import models as m
    from moto.apigatewayv2 import responses as r
    from moto.apigatewayv2 import urls as u

    from moto.apigateway import urls as v1_urls

    # API Gateway serves both versions from one host, so moto merges the v2
    # routes into the v1 table at import: the new route goes in both.
    pattern = "{0}/v2/apis/(?P<api_id>[^/]+)/exports/(?P<specification>[^/]+)$"
    u.url_paths[pattern] = r.ApiGatewayV2Response.dispatch
    v1_urls.url_paths[pattern] = r.ApiGatewayV2Response.dispatch

    def export_api(self):
        api = self.apigatewayv2_backend.get_api(self.path.split("/")[3])
        paths = {}
        schemes = {}
        for route in api.routes.values():
            method, _, path = route.route_key.partition(" ")
            if not path:
                method, path = "ANY", route.route_key
            op = {}
            target = route.target or ""
            if target.startswith("integrations/") and target.split("/", 1)[1] in api.integrations:
                i = api.integrations[target.split("/", 1)[1]]
                ext = {"type": (i.integration_type or "").lower(), "uri": i.integration_uri,
                       "connectionType": i.connection_type or "INTERNET",
                       "payloadFormatVersion": i.payload_format_version}
                if i.integration_method:
                    ext["httpMethod"] = i.integration_method
                if i.connection_id:
                    ext["connectionId"] = i.connection_id
                if i.tls_config:
                    ext["tlsConfig"] = i.tls_config
                op["x-amazon-apigateway-integration"] = ext
            auth = (route.authorization_type or "NONE").upper()
            if auth == "AWS_IAM":
                op["security"] = [{"sigv4": []}]
                schemes["sigv4"] = {"type": "apiKey", "name": "Authorization", "in": "header",
                                    "x-amazon-apigateway-authtype": "awsSigv4"}
            elif auth in ("CUSTOM", "JWT") and route.authorizer_id in api.authorizers:
                a = api.authorizers[route.authorizer_id]
                op["security"] = [{a.name: []}]
                schemes[a.name] = ({"type": "oauth2", "x-amazon-apigateway-authorizer": {"type": "jwt"}}
                                   if auth == "JWT" else
                                   {"type": "apiKey", "name": "Unused", "in": "header",
                                    "x-amazon-apigateway-authorizer": {"type": "request",
                                                                       "authorizerUri": a.authorizer_uri}})
            key = "x-amazon-apigateway-any-method" if method == "ANY" else method.lower()
            paths.setdefault(path, {})[key] = op
        doc = {"openapi": "3.0.1", "info": {"title": api.name, "version": "1"}, "paths": paths}
        if schemes:
            doc["components"] = {"securitySchemes": schemes}
        return 200, {"Content-Type": "application/json"}, json.dumps(doc)

    r.ApiGatewayV2Response.export_api = export_api

    # GetAuthorizers (the listing) is missing from moto; AWS pages it.
    def get_authorizers(self):
        api = self.apigatewayv2_backend.get_api(self.path.split("/")[3])
        items = [a.to_json() for a in api.authorizers.values()]
        return 200, {"Content-Type": "application/json"}, json.dumps({"items": items})

    r.ApiGatewayV2Response.get_authorizers = get_authorizers

    orig = m.VpcLink.to_json

    def to_json(self):
        d = orig(self)
        tags = d.get("tags") or {}
        if TAG + "status" in tags:
            d["vpcLinkStatus"] = tags[TAG + "status"]
        if TAG + "status-message" in tags:
            d["vpcLinkStatusMessage"] = tags[TAG + "status-message"]
        return d

    m.VpcLink.to_json = to_json


def patch_elbv2():
    from moto.elbv2 import models as m

    orig = m.FakeTargetGroup.health_for

    def health_for(self, target, ec2_backend):
        status = orig(self, target, ec2_backend)
        tid = target["Id"]
        wanted = ec2_backend.tags.get(tid, {}).get(TAG + "health") if tid.startswith("i-") else None
        if wanted and status.status == "healthy":
            state, _, reason = wanted.partition(":")
            return m.FakeHealthStatus(
                tid, status.port, status.health_check_port, state, reason or None,
                ec2_backend.tags.get(tid, {}).get(TAG + "health-description"),
            )
        return status

    m.FakeTargetGroup.health_for = health_for

    orig_init = m.FakeTargetGroup.__init__

    def init(self, *args, **kwargs):
        orig_init(self, *args, **kwargs)
        # ELB guide, "Edit target group attributes for your Network Load
        # Balancer": the defaults AWS reports for client IP preservation.
        if self.protocol in ("TCP", "TLS", "UDP", "TCP_UDP"):
            on = self.target_type == "instance" or self.protocol in ("UDP", "TCP_UDP")
            self.attributes["preserve_client_ip.enabled"] = "true" if on else "false"

    m.FakeTargetGroup.__init__ = init

    orig_create = m.ELBv2Backend.create_load_balancer

    def create_load_balancer(self, *args, **kwargs):
        lb = orig_create(self, *args, **kwargs)
        if lb.type == "network":
            # The ARN's tail, as AWS describes the interface (moto's ARN
            # says app/ where AWS says net/; the description follows it).
            tail = lb.arn.split(":loadbalancer/", 1)[1]
            for subnet in lb.subnets:
                self.ec2_backend.create_network_interface(subnet, None, description=f"ELB {tail}")
        return lb

    m.ELBv2Backend.create_load_balancer = create_load_balancer


def patch_ec2_filters():
    """EC2 matches a filter on a many-valued attribute (a network ACL's
    associated subnets) when any value matches any pattern; moto requires
    one set to contain the other, so a batched DescribeNetworkAcls for some
    of a default ACL's subnets misses it."""
    import fnmatch

    from moto.ec2 import utils

    orig = utils.is_filter_matching

    def is_filter_matching(obj, _filter, filter_value):
        value = obj.get_filter_value(_filter)
        if isinstance(value, (list, set, tuple)) and filter_value is not None:
            patterns = filter_value if isinstance(filter_value, list) else [filter_value]
            return any(fnmatch.fnmatch(str(v), p) for v in value for p in patterns)
        return orig(obj, _filter, filter_value)

    utils.is_filter_matching = is_filter_matching


def patch_ec2():
    from moto.core.responses import ActionResult
    from moto.ec2.responses.vpc_service_configuration import VPCEndpointServiceConfiguration

    def describe_vpc_endpoint_connections(self):
        wanted = self._filters_from_querystring().get("service-id")
        conns = []
        for cfg in self.ec2_backend.describe_vpc_endpoint_service_configurations(None):
            if wanted and cfg.id not in wanted:
                continue
            tags = self.ec2_backend.tags.get(cfg.id, {})
            state = tags.get(TAG + "connection-state", "available")
            owner = tags.get(TAG + "connection-owner", APIGW_ENDPOINT_OWNERS.get(self.region, "000000000000"))
            endpoint = "vpce-" + hashlib.sha256(cfg.id.encode()).hexdigest()[:17]
            conns.append({
                "ServiceId": cfg.id,
                "VpcEndpointId": endpoint,
                "VpcEndpointOwner": owner,
                "VpcEndpointState": state,
                "NetworkLoadBalancerArns": list(cfg.network_load_balancer_arns),
            })
        return ActionResult({"VpcEndpointConnections": conns})

    VPCEndpointServiceConfiguration.describe_vpc_endpoint_connections = describe_vpc_endpoint_connections


# API Gateway speaks REST: its operation is the method and path.
APIGW_ROUTES = [
    ("GET", r"^/restapis$", "GetRestApis"),
    ("GET", r"^/restapis/[^/]+$", "GetRestApi"),
    ("GET", r"^/restapis/[^/]+/stages$", "GetStages"),
    ("GET", r"^/restapis/[^/]+/stages/[^/]+$", "GetStage"),
    ("GET", r"^/restapis/[^/]+/resources$", "GetResources"),
    ("GET", r"^/restapis/[^/]+/deployments/[^/]+$", "GetDeployment"),
    ("GET", r"^/restapis/[^/]+/stages/[^/]+/exports/[^/]+$", "GetExport"),
    ("GET", r"^/restapis/[^/]+/authorizers$", "GetAuthorizers"),
    ("GET", r"^/account$", "GetAccount"),
    ("GET", r"^/vpclinks$", "GetVpcLinks"),
    ("GET", r"^/vpclinks/[^/]+$", "GetVpcLink"),
    ("GET", r"^/v2/apis$", "GetApis"),
    ("GET", r"^/v2/apis/[^/]+$", "GetApi"),
    ("GET", r"^/v2/apis/[^/]+/stages$", "GetStages"),
    ("GET", r"^/v2/apis/[^/]+/routes$", "GetRoutes"),
    ("GET", r"^/v2/apis/[^/]+/integrations$", "GetIntegrations"),
    ("GET", r"^/v2/apis/[^/]+/authorizers$", "GetAuthorizers"),
    ("GET", r"^/v2/apis/[^/]+/exports/[^/]+$", "ExportApi"),
    ("GET", r"^/domainnames$", "GetDomainNames"),
    ("GET", r"^/domainnames/[^/]+/basepathmappings$", "GetBasePathMappings"),
    ("GET", r"^/v2/domainnames$", "GetDomainNames"),
    ("GET", r"^/v2/domainnames/[^/]+/apimappings$", "GetApiMappings"),
    ("GET", r"^/v2/vpclinks$", "GetVpcLinks"),
    ("GET", r"^/usageplans$", "GetUsagePlans"),
    ("GET", r"^/usageplans/[^/]+/keys$", "GetUsagePlanKeys"),
    ("GET", r"^/apikeys$", "GetApiKeys"),
]

# The other REST-style services the tool reads.
REST_ROUTES = {
    "apigateway": APIGW_ROUTES,
    "lambda": [
        ("GET", r"^/2015-03-31/functions/[^/]+/configuration$", "GetFunctionConfiguration"),
        ("GET", r"^/2015-03-31/functions/[^/]+/policy$", "GetPolicy"),
        ("GET", r"^/2019-09-30/functions/[^/]+/concurrency$", "GetFunctionConcurrency"),
    ],
    "cloudfront": [("GET", r"^/2020-05-31/distribution$", "ListDistributions")],
}

CREDENTIAL = re.compile(r"Credential=([^/]+)/[^/]+/[^/]+/([^/]+)/")
REGION = re.compile(r"Credential=[^/]+/[^/]+/([^/]+)/")


def operation(environ, body):
    """(service prefix, Operation) of a request, as IAM names them."""
    auth = environ.get("HTTP_AUTHORIZATION") or ""
    m = CREDENTIAL.search(auth)
    service = m.group(2) if m else ""
    if body and b"Action=" in body:
        action = parse_qs(body.decode("utf-8", "replace")).get("Action", [""])[0]
        prefix = {"elasticloadbalancing": "elasticloadbalancing"}.get(service, service)
        return prefix, action
    target = environ.get("HTTP_X_AMZ_TARGET")
    if target:
        return service, target.split(".")[-1]
    for method, pattern, op in REST_ROUTES.get(service, ()):
        if environ.get("REQUEST_METHOD") == method and re.match(pattern, environ.get("PATH_INFO", "")):
            return service, op
    return service, environ.get("REQUEST_METHOD", "") + " " + environ.get("PATH_INFO", "")


PAGE_TOKEN = "apigw-audit-page-2"

# Services whose errors are JSON with `__type`, not XML.
JSON_RPC = ("acm", "servicediscovery", "logs")


def with_next_page(service, body):
    """The answer as it would be with a second page to come: each protocol
    carries the token in its own field (REST JSON ``position`` or
    ``nextToken``, JSON-RPC ``NextToken``, EC2 ``nextToken``, ELBv2 and
    CloudFront ``NextMarker``)."""
    text = body.decode("utf-8", "replace")
    stripped = text.strip()
    if stripped.startswith("{"):
        doc = json.loads(stripped)
        field = {"apigateway": "position", "logs": "nextToken"}.get(service, "NextToken")
        if service == "apigateway" and "items" in doc:
            field = "nextToken"  # API Gateway v2 (`items`) signs as v1 (`item`) does
        doc[field] = PAGE_TOKEN
        return json.dumps(doc).encode()
    if service == "ec2":
        at = text.rfind("</")
        return (text[:at] + f"<nextToken>{PAGE_TOKEN}</nextToken>" + text[at:]).encode()
    if service == "cloudfront":
        text = text.replace("<IsTruncated>false</IsTruncated>", "<IsTruncated>true</IsTruncated>", 1)
        at = text.find("</DistributionList>")
        if at >= 0:
            text = text[:at] + f"<NextMarker>{PAGE_TOKEN}</NextMarker>" + text[at:]
        return text.encode()
    closing = re.search(r"</(\w+Result)>", text)
    if closing:
        return (text[:closing.start()] + f"<NextMarker>{PAGE_TOKEN}</NextMarker>" + text[closing.start():]).encode()
    return body


def reset_connection(environ):
    """Closes the client's connection with an RST and nothing written."""
    sock = environ.get("werkzeug.socket")
    if sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
    raise ConnectionResetError("fault: reset")


def fault_response(service, fault, start_response):
    if fault.startswith("slow:"):
        time.sleep(float(fault.split(":", 1)[1]))
        return None
    codes = {
        "access-denied": (403, {"ec2": "UnauthorizedOperation"}.get(
                              service, "AccessDeniedException" if service in ("apigateway", "lambda") + JSON_RPC
                              else "AccessDenied"),
                          "You are not authorized to perform this operation."),
        "throttle": (400 if service not in ("apigateway", "lambda") else 429,
                     {"ec2": "RequestLimitExceeded", "apigateway": "TooManyRequestsException",
                      "lambda": "TooManyRequestsException", "acm": "ThrottlingException",
                      "servicediscovery": "ThrottlingException",
                      "logs": "ThrottlingException"}.get(service, "Throttling"),
                     "Rate exceeded"),
        "http-500": (500, "InternalFailure", "We encountered an internal error. Please try again."),
        "http-503": (503, "ServiceUnavailable", "Service is unavailable. Please try again."),
    }
    if fault == "malformed":
        json_body = service in ("apigateway", "lambda") + JSON_RPC
        start_response("200 OK", [("Content-Type", "application/json" if json_body else "text/xml")])
        return [b"<<<this is not a valid response"]
    status, code, message = codes[fault]
    reason = {403: "Forbidden", 400: "Bad Request", 429: "Too Many Requests", 500: "Internal Server Error",
              503: "Service Unavailable"}[status]
    if service in ("apigateway", "lambda"):
        start_response(f"{status} {reason}", [("Content-Type", "application/json"), ("x-amzn-ErrorType", code)])
        return [json.dumps({"message": message}).encode()]
    if service in JSON_RPC:
        start_response(f"{status} {reason}", [("Content-Type", "application/x-amz-json-1.1"),
                                              ("x-amzn-ErrorType", code)])
        return [json.dumps({"__type": code, "message": message}).encode()]
    if service == "ec2":
        body = (f"<Response><Errors><Error><Code>{code}</Code><Message>{message}</Message></Error></Errors>"
                f"<RequestID>00000000-0000-0000-0000-000000000000</RequestID></Response>")
    else:
        body = (f"<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error>"
                f"<RequestId>00000000-0000-0000-0000-000000000000</RequestId></ErrorResponse>")
    start_response(f"{status} {reason}", [("Content-Type", "text/xml")])
    return [body.encode()]


class Buckets:
    """AWS-like token buckets per access key: `service`, `service:Operation`
    (checked in addition), and `service:*` (one bucket per operation), each
    [rate per second, burst]. A request finding a bucket empty is answered
    with the service's throttling error, as AWS answers it."""

    def __init__(self):
        self.lock = threading.Lock()
        self.state = {}

    def admit(self, key, rules, service, op):
        names = []
        if service in rules:
            names.append((service, rules[service]))
        own = f"{service}:{op}"
        if own in rules:
            names.append((own, rules[own]))
        elif f"{service}:*" in rules:
            names.append((own, rules[f"{service}:*"]))
        now = time.monotonic()
        with self.lock:
            levels = []
            for name, (rate, burst) in names:
                tokens, last = self.state.get((key, name), (float(burst), now))
                tokens = min(float(burst), tokens + (now - last) * float(rate))
                levels.append((name, tokens))
            if any(t < 1.0 for _, t in levels):
                for name, t in levels:
                    self.state[(key, name)] = (t, now)
                return False
            for name, t in levels:
                self.state[(key, name)] = (t - 1.0, now)
            return True


def instrumented_app(app, log_path, faults_dir):
    """Records every request's operation and, per access key, injects the
    configured faults, latency (`_delay_ms`) and rate limits (`_buckets`)."""
    log = open(log_path, "a", buffering=1) if log_path else None
    buckets = Buckets()
    once_seen = set()
    once_lock = threading.Lock()

    def wrapped(environ, start_response):
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)
        service, op = operation(environ, body)
        m = CREDENTIAL.search(environ.get("HTTP_AUTHORIZATION") or "")
        key = m.group(1) if m else ""
        config = {}
        if faults_dir and key and re.fullmatch(r"[A-Za-z0-9_-]+", key):
            path = os.path.join(faults_dir, key + ".json")
            if os.path.exists(path):
                with open(path) as f:
                    config = json.load(f)
        arrived = time.time()
        delay = float(config.get("_delay_ms", 0)) / 1000.0
        if delay:
            time.sleep(delay)
        throttled = bool(config.get("_buckets")) and not buckets.admit(key, config["_buckets"], service, op)
        started = time.monotonic()

        def record(answer):
            # The emulator's own time per request, so a benchmark can tell
            # it apart from the injected latency.
            if log:
                log.write(json.dumps({"t": arrived, "key": key, "operation": f"{service}:{op}",
                                      "throttled": throttled,
                                      "next_page": PAGE_TOKEN.encode() in body + environ.get("QUERY_STRING", "").encode(),
                                      "service_ms": round((time.monotonic() - started) * 1000, 2)}) + "\n")
            return answer

        if throttled:
            return record(fault_response(service, "throttle", start_response))
        region = REGION.search(environ.get("HTTP_AUTHORIZATION") or "")
        region = region.group(1) if region else ""
        # A region-scoped fault (``"eu-west-1/apigateway:GetRestApis"``)
        # wins over one for every region.
        fault = config.get(f"{region}/{service}:{op}", config.get(f"{service}:{op}"))
        if fault and fault.startswith("once:"):
            # A transient fault: the first request of this operation by
            # this key gets it, every later one (the SDK's retry) does not.
            with once_lock:
                first = (key, service, op) not in once_seen
                once_seen.add((key, service, op))
            fault = fault[len("once:"):] if first else None
        if fault == "second-page" and PAGE_TOKEN.encode() in body + environ.get("QUERY_STRING", "").encode():
            return record(fault_response(service, "http-500", start_response))
        if fault == "reset":
            record(None)
            reset_connection(environ)
        if fault and fault.startswith("slow:"):
            # Logged on arrival: the client gives up before the answer.
            record(None)
            time.sleep(float(fault.split(":", 1)[1]))
            return app(environ, start_response)
        if fault and fault not in ("second-page", "truncated") and not fault.startswith("trickle:"):
            answer = fault_response(service, fault, start_response)
            if answer is not None:
                return record(answer)
        if fault in ("second-page", "truncated") or (fault or "").startswith("trickle:"):
            return record(rewritten(app, environ, start_response, service, fault))
        result = app(environ, start_response)
        try:
            body = b"".join(result)
        finally:
            if hasattr(result, "close"):
                result.close()
        return record([body])

    return wrapped


def rewritten(app, environ, start_response, service, fault):
    """The emulator's own answer, truncated or given a next page, with its
    Content-Length corrected so that only the body is wrong."""
    captured = {}

    def capture(status, headers, exc_info=None):
        captured["status"], captured["headers"] = status, headers
        return lambda data: None

    result = app(environ, capture)
    try:
        body = b"".join(result)
    finally:
        if hasattr(result, "close"):
            result.close()
    ok = captured.get("status", "").startswith("2")
    if ok and fault == "second-page":
        body = with_next_page(service, body)
    headers = [(k, v) for k, v in captured.get("headers", []) if k.lower() != "content-length"]
    headers.append(("Content-Length", str(len(body))))
    start_response(captured.get("status", "500 Internal Server Error"), headers)
    if ok and fault == "truncated":
        return cut_short(environ, body)
    if fault.startswith("trickle:"):
        return trickle(body, float(fault.split(":", 1)[1]))
    return [body]


def trickle(body, seconds):
    """The whole body, in ten pieces spread over `seconds`, as over a slow
    or congested link."""
    step = max(1, -(-len(body) // 10))
    for i in range(0, len(body), step):
        if i:
            time.sleep(seconds / 10)
        yield body[i:i + step]


def cut_short(environ, body):
    """Half the body promised by Content-Length, then the connection drops,
    as when a network path fails mid-answer."""
    yield body[: len(body) // 2]
    reset_connection(environ)


def exit_when_stdin_closes():
    def watch():
        try:
            while sys.stdin.read(4096):
                pass
        finally:
            os._exit(0)

    threading.Thread(target=watch, daemon=True).start()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--request-log")
    parser.add_argument("--faults-dir")
    args = parser.parse_args()
    exit_when_stdin_closes()

    patch_apigateway()
    patch_apigateway_deployments()
    patch_apigatewayv2()
    patch_elbv2()
    patch_ec2()
    patch_ec2_filters()

    from werkzeug.serving import make_server
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app

    app = DomainDispatcherApplication(create_backend_app)
    if args.request_log or args.faults_dir:
        app = instrumented_app(app, args.request_log, args.faults_dir)
    server = make_server("127.0.0.1", args.port, app, threaded=True, request_handler=MotoRequestHandler)
    print(f"LISTENING {server.server_port}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    sys.exit(main())
