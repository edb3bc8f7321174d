#!/usr/bin/env python3
"""Builds and breaks apigw-audit's end-to-end topologies in moto, through
ordinary AWS calls (boto3), for the Rust end-to-end tests to audit.

  scenario.py --endpoint URL [--region R] build rest-v1 --suffix S   -> prints the ids as JSON
  scenario.py --endpoint URL --state FILE break NAME     -> applies one break

Everything is built in us-east-1 unless --region says otherwise (a test that
lists every API of a region builds in a region of its own).

The REST topology: a REST API whose routes integrate through a VPC link (v1)
with an internal NLB (TCP 80) forwarding to two instances on TCP 8080 in
other subnets, with security groups and a custom network ACL allowing
exactly that path, execution logging on, and the endpoint service API
Gateway creates for the NLB.
"""
import argparse
import json
import sys

import boto3

from launcher import APIGW_ENDPOINT_OWNERS

TAG = "apigw-audit-test:"
REGION = "us-east-1"


def clients(endpoint):
    kw = dict(region_name=REGION, endpoint_url=endpoint, aws_access_key_id="testing",
              aws_secret_access_key="testing")
    return {name: boto3.client(name, **kw) for name in ("ec2", "elbv2", "apigateway", "apigatewayv2", "iam",
                                                         "servicediscovery", "acm", "lambda", "cloudfront",
                                                         "logs")}


def self_signed(host):
    """A certificate and key for `host`, as a team imports its own into ACM."""
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=365))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(host)]), critical=False)
            .sign(key, hashes.SHA256()))
    return (cert.public_bytes(serialization.Encoding.PEM),
            key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                              serialization.NoEncryption()))


def tls_listener(c, s, cert_arn, host):
    """A TLS listener on 443 presenting `cert_arn` in front of the target
    group, and the integration moved to https://HOST, deployed."""
    c["elbv2"].create_listener(LoadBalancerArn=s["nlb_arn"], Protocol="TLS", Port=443,
                               Certificates=[{"CertificateArn": cert_arn}],
                               SslPolicy="ELBSecurityPolicy-TLS13-1-2-2021-06",
                               DefaultActions=[{"Type": "forward", "TargetGroupArn": s["target_group_arn"]}])
    set_uri(c["apigateway"], s, f"https://{host}/orders")
    redeploy(c["apigateway"], s)


def redeploy(apigw, s):
    """Deploys the API to prod again. moto recreates the stage on
    CreateDeployment, so its variables and logging are set again too."""
    apigw.create_deployment(restApiId=s["api_id"], stageName="prod", variables={"vpcLinkId": s["vpc_link_id"]})
    apigw.update_stage(restApiId=s["api_id"], stageName="prod", patchOperations=[
        {"op": "replace", "path": "/*/*/logging/loglevel", "value": "INFO"}])


def set_uri(apigw, s, uri):
    """Points both routes' integrations at `uri` (moto has no UpdateIntegration)."""
    for method in ("GET", "POST"):
        apigw.put_integration(restApiId=s["api_id"], resourceId=s["orders_resource"], httpMethod=method,
                              type="HTTP_PROXY", integrationHttpMethod=method, uri=uri,
                              connectionType="VPC_LINK", connectionId="${stageVariables.vpcLinkId}")


def build_rest_v1(c, suffix, octet):
    ec2, elb, apigw, iam = c["ec2"], c["elbv2"], c["apigateway"], c["iam"]
    net = f"10.{octet}"
    vpc = ec2.create_vpc(CidrBlock=f"{net}.0.0/16")["Vpc"]["VpcId"]

    def subnet(cidr, az):
        return ec2.create_subnet(VpcId=vpc, CidrBlock=cidr, AvailabilityZone=az)["Subnet"]["SubnetId"]

    nlb_subnets = [subnet(f"{net}.1.0/24", f"{REGION}a"), subnet(f"{net}.2.0/24", f"{REGION}b")]
    app_subnets = [subnet(f"{net}.11.0/24", f"{REGION}a"), subnet(f"{net}.12.0/24", f"{REGION}b")]

    acl = ec2.create_network_acl(VpcId=vpc)["NetworkAcl"]["NetworkAclId"]
    ec2.create_network_acl_entry(NetworkAclId=acl, RuleNumber=100, Protocol="6", RuleAction="allow",
                                 Egress=False, CidrBlock=f"{net}.0.0/16", PortRange={"From": 8080, "To": 8080})
    ec2.create_network_acl_entry(NetworkAclId=acl, RuleNumber=100, Protocol="6", RuleAction="allow",
                                 Egress=True, CidrBlock=f"{net}.0.0/16", PortRange={"From": 1024, "To": 65535})
    acls = ec2.describe_network_acls(Filters=[{"Name": "association.subnet-id", "Values": app_subnets}])
    for a in acls["NetworkAcls"]:
        for assoc in a["Associations"]:
            if assoc["SubnetId"] in app_subnets:
                ec2.replace_network_acl_association(AssociationId=assoc["NetworkAclAssociationId"],
                                                    NetworkAclId=acl)

    sg = ec2.create_security_group(GroupName=f"orders-app-{suffix}", Description="orders app", VpcId=vpc)["GroupId"]
    ec2.authorize_security_group_ingress(GroupId=sg, IpPermissions=[{
        "IpProtocol": "tcp", "FromPort": 8080, "ToPort": 8080,
        "IpRanges": [{"CidrIp": f"{net}.1.0/24"}, {"CidrIp": f"{net}.2.0/24"}]}])

    instances = []
    for s in app_subnets:
        r = ec2.run_instances(ImageId="ami-12c6146b", MinCount=1, MaxCount=1, InstanceType="t3.micro",
                              SubnetId=s, SecurityGroupIds=[sg])
        instances.append(r["Instances"][0]["InstanceId"])

    lb = elb.create_load_balancer(Name=f"orders-nlb-{suffix}", Type="network", Scheme="internal",
                                  Subnets=nlb_subnets)["LoadBalancers"][0]
    tg = elb.create_target_group(Name=f"orders-tg-{suffix}", Protocol="TCP", Port=8080, VpcId=vpc,
                                 TargetType="instance", HealthCheckProtocol="TCP")["TargetGroups"][0]
    elb.register_targets(TargetGroupArn=tg["TargetGroupArn"], Targets=[{"Id": i} for i in instances])
    listener = elb.create_listener(LoadBalancerArn=lb["LoadBalancerArn"], Protocol="TCP", Port=80,
                                   DefaultActions=[{"Type": "forward", "TargetGroupArn": tg["TargetGroupArn"]}])
    listener_arn = listener["Listeners"][0]["ListenerArn"]

    # What API Gateway does on CreateVpcLink: an endpoint service for the NLB.
    svc = ec2.create_vpc_endpoint_service_configuration(NetworkLoadBalancerArns=[lb["LoadBalancerArn"]],
                                                        AcceptanceRequired=False)
    svc_id = svc["ServiceConfiguration"]["ServiceId"]
    # ...and its account among the service's allowed principals.
    ec2.modify_vpc_endpoint_service_permissions(
        ServiceId=svc_id, AddAllowedPrincipals=[f"arn:aws:iam::{APIGW_ENDPOINT_OWNERS[REGION]}:root"])
    link = apigw.create_vpc_link(name=f"orders-link-{suffix}", targetArns=[lb["LoadBalancerArn"]])["id"]

    role = iam.create_role(RoleName=f"apigw-cw-{suffix}", AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                "Principal": {"Service": "apigateway.amazonaws.com"}}]}))
    apigw.update_account(patchOperations=[{"op": "replace", "path": "/cloudwatchRoleArn",
                                           "value": role["Role"]["Arn"]}])

    api = apigw.create_rest_api(name=f"orders-{suffix}", endpointConfiguration={"types": ["REGIONAL"]})["id"]
    root = [r for r in apigw.get_resources(restApiId=api)["items"] if r["path"] == "/"][0]["id"]
    orders = apigw.create_resource(restApiId=api, parentId=root, pathPart="orders")["id"]
    for method in ("GET", "POST"):
        apigw.put_method(restApiId=api, resourceId=orders, httpMethod=method, authorizationType="NONE")
        apigw.put_integration(restApiId=api, resourceId=orders, httpMethod=method, type="HTTP_PROXY",
                              integrationHttpMethod=method, uri=f"http://{lb['DNSName']}/orders",
                              connectionType="VPC_LINK", connectionId="${stageVariables.vpcLinkId}")
    apigw.create_deployment(restApiId=api, stageName="prod", variables={"vpcLinkId": link})
    apigw.update_stage(restApiId=api, stageName="prod", patchOperations=[
        {"op": "replace", "path": "/*/*/logging/loglevel", "value": "INFO"}])
    return {
        "api_id": api, "vpc_link_id": link, "nlb_arn": lb["LoadBalancerArn"], "listener_arn": listener_arn,
        "orders_resource": orders, "nlb_dns": lb["DNSName"],
        "target_group_arn": tg["TargetGroupArn"], "instances": instances, "app_acl": acl, "app_sg": sg,
        "service_id": svc_id, "vpc": vpc, "net": net, "nlb_subnets": nlb_subnets, "app_subnets": app_subnets,
    }


def build_http_v2(c, suffix, octet):
    """An HTTP API whose route reaches, through a VPC link v2, an internal ALB
    listener on 80 with a path rule: two target groups (instances, and IP
    targets on network interfaces), security groups chained link -> ALB ->
    app on the real ports, access logging on."""
    ec2, elb, v2 = c["ec2"], c["elbv2"], c["apigatewayv2"]
    net = f"10.{octet}"
    vpc = ec2.create_vpc(CidrBlock=f"{net}.0.0/16")["Vpc"]["VpcId"]

    def subnet(cidr, az):
        return ec2.create_subnet(VpcId=vpc, CidrBlock=cidr, AvailabilityZone=az)["Subnet"]["SubnetId"]

    link_subnets = [subnet(f"{net}.1.0/24", f"{REGION}a"), subnet(f"{net}.2.0/24", f"{REGION}b")]
    alb_subnets = [subnet(f"{net}.11.0/24", f"{REGION}a"), subnet(f"{net}.12.0/24", f"{REGION}b")]
    app_subnets = [subnet(f"{net}.21.0/24", f"{REGION}a"), subnet(f"{net}.22.0/24", f"{REGION}b")]

    def group(name):
        gid = ec2.create_security_group(GroupName=f"{name}-{suffix}", Description=name, VpcId=vpc)["GroupId"]
        # Start from no egress, like a locked-down account: every hop is explicit.
        ec2.revoke_security_group_egress(GroupId=gid, IpPermissions=[
            {"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
        return gid

    link_sg, alb_sg, app_sg = group("catalog-link"), group("catalog-alb"), group("catalog-app")
    ec2.authorize_security_group_egress(GroupId=link_sg, IpPermissions=[{
        "IpProtocol": "tcp", "FromPort": 80, "ToPort": 80, "UserIdGroupPairs": [{"GroupId": alb_sg}]}])
    ec2.authorize_security_group_ingress(GroupId=alb_sg, IpPermissions=[{
        "IpProtocol": "tcp", "FromPort": 80, "ToPort": 80, "UserIdGroupPairs": [{"GroupId": link_sg}]}])
    ec2.authorize_security_group_egress(GroupId=alb_sg, IpPermissions=[{
        "IpProtocol": "tcp", "FromPort": 8080, "ToPort": 8080, "UserIdGroupPairs": [{"GroupId": app_sg}]}])
    ec2.authorize_security_group_ingress(GroupId=app_sg, IpPermissions=[{
        "IpProtocol": "tcp", "FromPort": 8080, "ToPort": 8080, "UserIdGroupPairs": [{"GroupId": alb_sg}]}])

    instances = []
    for sid in app_subnets:
        r = ec2.run_instances(ImageId="ami-12c6146b", MinCount=1, MaxCount=1, InstanceType="t3.micro",
                              SubnetId=sid, SecurityGroupIds=[app_sg])
        instances.append(r["Instances"][0]["InstanceId"])
    search_ips = [f"{net}.21.50", f"{net}.22.60"]
    for sid, ip in zip(app_subnets, search_ips):
        ec2.create_network_interface(SubnetId=sid, PrivateIpAddress=ip, Groups=[app_sg], Description="search task")

    alb = elb.create_load_balancer(Name=f"catalog-alb-{suffix}", Type="application", Scheme="internal",
                                   Subnets=alb_subnets, SecurityGroups=[alb_sg])["LoadBalancers"][0]
    web = elb.create_target_group(Name=f"catalog-web-{suffix}", Protocol="HTTP", Port=8080, VpcId=vpc,
                                  TargetType="instance", HealthCheckPath="/health")["TargetGroups"][0]
    search = elb.create_target_group(Name=f"catalog-search-{suffix}", Protocol="HTTP", Port=8080, VpcId=vpc,
                                     TargetType="ip", HealthCheckPath="/health")["TargetGroups"][0]
    elb.register_targets(TargetGroupArn=web["TargetGroupArn"], Targets=[{"Id": i} for i in instances])
    elb.register_targets(TargetGroupArn=search["TargetGroupArn"], Targets=[{"Id": ip} for ip in search_ips])
    listener = elb.create_listener(LoadBalancerArn=alb["LoadBalancerArn"], Protocol="HTTP", Port=80,
                                   DefaultActions=[{"Type": "forward", "TargetGroupArn": web["TargetGroupArn"]}])
    listener_arn = listener["Listeners"][0]["ListenerArn"]
    elb.create_rule(ListenerArn=listener_arn, Priority=10,
                    Conditions=[{"Field": "path-pattern", "Values": ["/catalog/search*"]}],
                    Actions=[{"Type": "forward", "TargetGroupArn": search["TargetGroupArn"]}])

    link = v2.create_vpc_link(Name=f"catalog-link-{suffix}", SubnetIds=link_subnets,
                              SecurityGroupIds=[link_sg])["VpcLinkId"]
    api = v2.create_api(Name=f"catalog-{suffix}", ProtocolType="HTTP")["ApiId"]
    integ = v2.create_integration(ApiId=api, IntegrationType="HTTP_PROXY", IntegrationMethod="ANY",
                                  IntegrationUri=listener_arn, ConnectionType="VPC_LINK", ConnectionId=link,
                                  PayloadFormatVersion="1.0")["IntegrationId"]
    # Callers present a JWT from the company's identity provider.
    jwt = v2.create_authorizer(ApiId=api, AuthorizerType="JWT", Name="catalog-jwt",
                               IdentitySource=["$request.header.Authorization"],
                               JwtConfiguration={"Audience": ["catalog"],
                                                 "Issuer": "https://idp.example.com/"})["AuthorizerId"]
    v2.create_route(ApiId=api, RouteKey="GET /catalog/{proxy+}", Target=f"integrations/{integ}",
                    AuthorizationType="JWT", AuthorizerId=jwt)
    v2.create_stage(ApiId=api, StageName="prod", AccessLogSettings={
        "DestinationArn": f"arn:aws:logs:{REGION}:123456789012:log-group:/apigw/catalog-{suffix}",
        "Format": "$context.requestId $context.status $context.integrationErrorMessage"})
    return {
        "api_id": api, "vpc_link_id": link, "alb_arn": alb["LoadBalancerArn"], "listener_arn": listener_arn,
        "web_tg": web["TargetGroupArn"], "search_tg": search["TargetGroupArn"], "search_ips": search_ips,
        "instances": instances, "link_sg": link_sg, "alb_sg": alb_sg, "app_sg": app_sg, "vpc": vpc, "net": net,
        "link_subnets": link_subnets, "alb_subnets": alb_subnets, "app_subnets": app_subnets,
    }


def lambda_function(c, name):
    """A Python Lambda function with its execution role; its ARN."""
    import io
    import zipfile

    role = c["iam"].create_role(RoleName=f"{name}-role", AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                "Principal": {"Service": "lambda.amazonaws.com"}}]}))["Role"]["Arn"]
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as z:
        z.writestr("index.py", "def handler(event, context):\n    return {}\n")
    return c["lambda"].create_function(FunctionName=name, Runtime="python3.12", Role=role, Timeout=10,
                                       Handler="index.handler", Code={"ZipFile": code.getvalue()})["FunctionArn"]


def lambda_route(c, s, permit, concurrency=None):
    """POST /refunds, a Lambda proxy integration; with `permit` the function
    lets API Gateway invoke it for that method and path on every stage."""
    apigw, api = c["apigateway"], s["api_id"]
    fn = lambda_function(c, f"orders-refunds-{api}")
    root = [r for r in apigw.get_resources(restApiId=api)["items"] if r["path"] == "/"][0]["id"]
    res = apigw.create_resource(restApiId=api, parentId=root, pathPart="refunds")["id"]
    apigw.put_method(restApiId=api, resourceId=res, httpMethod="POST", authorizationType="NONE")
    apigw.put_integration(restApiId=api, resourceId=res, httpMethod="POST", type="AWS_PROXY",
                          integrationHttpMethod="POST",
                          uri=f"arn:aws:apigateway:{REGION}:lambda:path/2015-03-31/functions/{fn}/invocations")
    if permit:
        c["lambda"].add_permission(FunctionName=fn, StatementId="apigateway-refunds", Action="lambda:InvokeFunction",
                                   Principal="apigateway.amazonaws.com",
                                   SourceArn=f"arn:aws:execute-api:{REGION}:{fn.split(':')[4]}:{api}/*/POST/refunds")
    if concurrency is not None:
        c["lambda"].put_function_concurrency(FunctionName=fn, ReservedConcurrentExecutions=concurrency)
    redeploy(apigw, s)


def api_key_route(c, s, plan, key_enabled=True):
    """GET /partners requires an API key (a MOCK integration); with `plan`
    a usage plan serves prod and holds one key, enabled or not."""
    apigw, api = c["apigateway"], s["api_id"]
    root = [r for r in apigw.get_resources(restApiId=api)["items"] if r["path"] == "/"][0]["id"]
    res = apigw.create_resource(restApiId=api, parentId=root, pathPart="partners")["id"]
    apigw.put_method(restApiId=api, resourceId=res, httpMethod="GET", authorizationType="NONE",
                     apiKeyRequired=True)
    apigw.put_integration(restApiId=api, resourceId=res, httpMethod="GET", type="MOCK")
    redeploy(apigw, s)
    if plan:
        up = apigw.create_usage_plan(name=f"partners-{api}", apiStages=[{"apiId": api, "stage": "prod"}],
                                     throttle={"rateLimit": 10.0, "burstLimit": 20},
                                     quota={"limit": 1000, "period": "DAY"})["id"]
        # A value the tests look for in every output: it must appear in none.
        key = apigw.create_api_key(name=f"partner-{api}", enabled=key_enabled,
                                   value=f"partnerkey{api}SECRET0123456789")["id"]
        apigw.create_usage_plan_key(usagePlanId=up, keyId=key, keyType="API_KEY")


def token_authorizer(c, s, permit):
    """A TOKEN authorizer on POST /orders backed by a Lambda function; with
    `permit`, the function lets API Gateway invoke it for this API."""
    apigw, lam = c["apigateway"], c["lambda"]
    api = s["api_id"]
    fn = lambda_function(c, f"orders-authorizer-{api}")
    uri = f"arn:aws:apigateway:{REGION}:lambda:path/2015-03-31/functions/{fn}/invocations"
    auth = apigw.create_authorizer(restApiId=api, name="orders-token", type="TOKEN", authorizerUri=uri,
                                   identitySource="method.request.header.Authorization")["id"]
    if permit:
        account = fn.split(":")[4]
        lam.add_permission(FunctionName=fn, StatementId="apigateway-invoke", Action="lambda:InvokeFunction",
                           Principal="apigateway.amazonaws.com",
                           SourceArn=f"arn:aws:execute-api:{REGION}:{account}:{api}/authorizers/{auth}")
    # moto has no UpdateMethod: the method is put again, then its integration.
    apigw.put_method(restApiId=api, resourceId=s["orders_resource"], httpMethod="POST",
                     authorizationType="CUSTOM", authorizerId=auth)
    apigw.put_integration(restApiId=api, resourceId=s["orders_resource"], httpMethod="POST", type="HTTP_PROXY",
                          integrationHttpMethod="POST", uri=f"http://{s['nlb_dns']}/orders",
                          connectionType="VPC_LINK", connectionId="${stageVariables.vpcLinkId}")
    redeploy(apigw, s)


def custom_domain(c, s):
    """A regional custom domain mapping a path to the API's prod stage: a
    base path mapping for a REST API, an API mapping for an HTTP API."""
    apigw, v2 = c["apigateway"], c["apigatewayv2"]
    api = s["api_id"]
    name = f"api-{api}.example.com".lower()
    if "nlb_arn" in s:
        apigw.create_domain_name(domainName=name, endpointConfiguration={"types": ["REGIONAL"]})
        apigw.create_base_path_mapping(domainName=name, restApiId=api, basePath="orders", stage="prod")
    else:
        v2.create_domain_name(DomainName=name)
        v2.create_api_mapping(DomainName=name, ApiId=api, Stage="prod", ApiMappingKey="catalog")


def cloud_map_route(c, s):
    """A second route of the HTTP API reaching a Cloud Map service (two
    registered instances) through the same VPC link v2."""
    sd, v2, ec2 = c["servicediscovery"], c["apigatewayv2"], c["ec2"]
    # The link reaches the instances directly, not through the ALB.
    ec2.authorize_security_group_egress(GroupId=s["link_sg"], IpPermissions=[{
        "IpProtocol": "tcp", "FromPort": 8080, "ToPort": 8080, "UserIdGroupPairs": [{"GroupId": s["app_sg"]}]}])
    ec2.authorize_security_group_ingress(GroupId=s["app_sg"], IpPermissions=[{
        "IpProtocol": "tcp", "FromPort": 8080, "ToPort": 8080, "UserIdGroupPairs": [{"GroupId": s["link_sg"]}]}])
    ns_op = sd.create_http_namespace(Name=f"catalog-{s['api_id']}.local")["OperationId"]
    ns = sd.get_operation(OperationId=ns_op)["Operation"]["Targets"]["NAMESPACE"]
    svc = sd.create_service(Name="search", NamespaceId=ns,
                            HealthCheckCustomConfig={"FailureThreshold": 1})["Service"]
    for n, ip in enumerate(s["search_ips"]):
        sd.register_instance(ServiceId=svc["Id"], InstanceId=f"search-{n}",
                             Attributes={"AWS_INSTANCE_IPV4": ip, "AWS_INSTANCE_PORT": "8080"})
    integ = v2.create_integration(ApiId=s["api_id"], IntegrationType="HTTP_PROXY", IntegrationMethod="ANY",
                                  IntegrationUri=svc["Arn"], ConnectionType="VPC_LINK",
                                  ConnectionId=s["vpc_link_id"], PayloadFormatVersion="1.0")["IntegrationId"]
    v2.create_route(ApiId=s["api_id"], RouteKey="GET /search/{proxy+}", Target=f"integrations/{integ}")


def prefix_list_rule(c, s):
    """The targets admit the NLB's traffic only through a managed prefix
    list holding the NLB's subnets (the direct CIDR rule is replaced), so
    the verdict depends on the list's entries."""
    ec2 = c["ec2"]
    net = s["net"]
    pl = ec2.create_managed_prefix_list(PrefixListName=f"nlb-{s['api_id']}", MaxEntries=5, AddressFamily="IPv4",
                                        Entries=[{"Cidr": f"{net}.1.0/24"}, {"Cidr": f"{net}.2.0/24"}]
                                        )["PrefixList"]["PrefixListId"]
    ec2.authorize_security_group_ingress(GroupId=s["app_sg"], IpPermissions=[{
        "IpProtocol": "tcp", "FromPort": 8080, "ToPort": 8080, "PrefixListIds": [{"PrefixListId": pl}]}])
    ec2.revoke_security_group_ingress(GroupId=s["app_sg"], IpPermissions=[{
        "IpProtocol": "tcp", "FromPort": 8080, "ToPort": 8080,
        "IpRanges": [{"CidrIp": f"{net}.1.0/24"}, {"CidrIp": f"{net}.2.0/24"}]}])


def cloudfront_in_front(c, s, protocol, headers=()):
    """A distribution whose origin is the API's execute-api host, stage prod;
    its default behavior forwards the viewer `headers` (legacy settings)."""
    c["cloudfront"].create_distribution(DistributionConfig={
        "CallerReference": f"orders-{s['api_id']}", "Comment": "orders API", "Enabled": True,
        "Origins": {"Quantity": 1, "Items": [{
            "Id": "orders-api", "DomainName": f"{s['api_id']}.execute-api.{REGION}.amazonaws.com",
            "OriginPath": "/prod",
            "CustomOriginConfig": {"HTTPPort": 80, "HTTPSPort": 443, "OriginProtocolPolicy": protocol}}]},
        "DefaultCacheBehavior": {"TargetOriginId": "orders-api", "ViewerProtocolPolicy": "redirect-to-https",
                                 "MinTTL": 0, "ForwardedValues": {
                                     "QueryString": True, "Cookies": {"Forward": "none"},
                                     "Headers": {"Quantity": len(headers), "Items": list(headers)}}},
    })


def api_prefix_route(c, s):
    """GET /api/v1/orders next to /orders, deployed: what a caller who
    forgets the /api prefix should be told."""
    apigw, api = c["apigateway"], s["api_id"]
    root = [r for r in apigw.get_resources(restApiId=api)["items"] if r["path"] == "/"][0]["id"]
    parent = apigw.create_resource(restApiId=api, parentId=root, pathPart="api")["id"]
    parent = apigw.create_resource(restApiId=api, parentId=parent, pathPart="v1")["id"]
    res = apigw.create_resource(restApiId=api, parentId=parent, pathPart="orders")["id"]
    apigw.put_method(restApiId=api, resourceId=res, httpMethod="GET", authorizationType="NONE")
    apigw.put_integration(restApiId=api, resourceId=res, httpMethod="GET", type="HTTP_PROXY",
                          integrationHttpMethod="GET", uri=f"http://{s['nlb_dns']}/orders",
                          connectionType="VPC_LINK", connectionId="${stageVariables.vpcLinkId}")
    redeploy(apigw, s)


# What the stage's execution log holds after a bad few minutes: errors of
# two causes among routine lines.
EXECUTION_LOG = [
    "(a1) Extended Request Id: Kq1xYF8QIAMFd9w=",
    "(a1) Starting execution for request: a1",
    "(a1) Execution failed due to configuration error: There was an internal error while executing your request",
    "(a1) Method completed with status: 500",
    "(b2) Execution failed due to configuration error: There was an internal error while executing your request",
    "(b2) Method completed with status: 500",
    "(c3) Execution failed due to configuration error: Host name 'orders.internal.example' does not match the "
    "certificate subject provided by the peer (CN=api.internal.example)",
    "(c3) Method completed with status: 500",
    "(d4) Execution failed due to configuration error: There was an internal error while executing your request",
    "(e5) Method completed with status: 200",
]


def execution_log_errors(c, s):
    import time

    logs = c["logs"]
    group = f"API-Gateway-Execution-Logs_{s['api_id']}/prod"
    logs.create_log_group(logGroupName=group)
    logs.create_log_stream(logGroupName=group, logStreamName="0123456789abcdef")
    now = int(time.time() * 1000)
    logs.put_log_events(logGroupName=group, logStreamName="0123456789abcdef", logEvents=[
        {"timestamp": now - 60_000 + i, "message": m} for i, m in enumerate(EXECUTION_LOG)])
    # An old error outside any recent window must not be counted.
    logs.create_log_stream(logGroupName=group, logStreamName="old")
    logs.put_log_events(logGroupName=group, logStreamName="old", logEvents=[
        {"timestamp": now - 3 * 3600_000, "message": "(z9) Execution failed due to a timeout error"}])



def more_apis_on_the_same_link(c, s, count=2):
    """More REST APIs whose routes reach the same NLB through the same VPC
    link, as teams sharing one load balancer build them."""
    apigw = c["apigateway"]
    ids = []
    for n in range(count):
        api = apigw.create_rest_api(name=f"shared-{n}-{s['api_id']}",
                                    endpointConfiguration={"types": ["REGIONAL"]})["id"]
        root = [r for r in apigw.get_resources(restApiId=api)["items"] if r["path"] == "/"][0]["id"]
        res = apigw.create_resource(restApiId=api, parentId=root, pathPart=f"svc{n}")["id"]
        apigw.put_method(restApiId=api, resourceId=res, httpMethod="GET", authorizationType="NONE")
        apigw.put_integration(restApiId=api, resourceId=res, httpMethod="GET", type="HTTP_PROXY",
                              integrationHttpMethod="GET", uri=f"http://{s['nlb_dns']}/svc{n}",
                              connectionType="VPC_LINK", connectionId="${stageVariables.vpcLinkId}")
        apigw.create_deployment(restApiId=api, stageName="prod", variables={"vpcLinkId": s["vpc_link_id"]})
        apigw.update_stage(restApiId=api, stageName="prod", patchOperations=[
            {"op": "replace", "path": "/*/*/logging/loglevel", "value": "INFO"}])
        ids.append(api)
    return ids


def nlb_to_alb(c, s):
    """The NLB's port-80 listener forwards to an ALB (an `alb` target
    group) whose HTTP listener forwards to the instances. The ALB keeps its
    default 60 s idle timeout, shorter than the NLB's 350 s: idle-timeout
    fails, and judging it reads both load balancers' attributes."""
    elb = c["elbv2"]
    alb = elb.create_load_balancer(Name=f"orders-alb-{s['api_id'][:6]}", Type="application", Scheme="internal",
                                   Subnets=s["app_subnets"], SecurityGroups=[s["app_sg"]])["LoadBalancers"][0]
    app_tg = elb.create_target_group(Name=f"orders-app-{s['api_id'][:6]}", Protocol="HTTP", Port=8080,
                                     VpcId=s["vpc"], TargetType="instance")["TargetGroups"][0]
    elb.register_targets(TargetGroupArn=app_tg["TargetGroupArn"], Targets=[{"Id": i} for i in s["instances"]])
    elb.create_listener(LoadBalancerArn=alb["LoadBalancerArn"], Protocol="HTTP", Port=8080,
                        DefaultActions=[{"Type": "forward", "TargetGroupArn": app_tg["TargetGroupArn"]}])
    alb_tg = elb.create_target_group(Name=f"orders-alb-{s['api_id'][:6]}", Protocol="TCP", Port=8080,
                                     VpcId=s["vpc"], TargetType="alb")["TargetGroups"][0]
    elb.register_targets(TargetGroupArn=alb_tg["TargetGroupArn"],
                         Targets=[{"Id": alb["LoadBalancerArn"], "Port": 8080}])
    elb.modify_listener(ListenerArn=s["listener_arn"],
                        DefaultActions=[{"Type": "forward", "TargetGroupArn": alb_tg["TargetGroupArn"]}])


def nlb_behind_link(c, s):
    """(HTTP API) A second route, ANY /orders, through the same VPC link v2
    to an internal NLB (no security groups) in the ALB's subnets, whose TCP
    target group holds the app instances on 8080. The app group admits 8080
    from the NLB's subnets only: with client IP preservation on (the
    default for instance targets) the requests arrive from the link's
    interfaces instead, and security-groups fails."""
    ec2, elb, v2 = c["ec2"], c["elbv2"], c["apigatewayv2"]
    net, tag = s["net"], s["api_id"][:6]
    nlb_cidrs = [{"CidrIp": f"{net}.11.0/24"}, {"CidrIp": f"{net}.12.0/24"}]
    ec2.authorize_security_group_egress(GroupId=s["link_sg"], IpPermissions=[{
        "IpProtocol": "tcp", "FromPort": 80, "ToPort": 80, "IpRanges": nlb_cidrs}])
    ec2.authorize_security_group_ingress(GroupId=s["app_sg"], IpPermissions=[{
        "IpProtocol": "tcp", "FromPort": 8080, "ToPort": 8080, "IpRanges": nlb_cidrs}])
    nlb = elb.create_load_balancer(Name=f"orders-nlb-{tag}", Type="network", Scheme="internal",
                                   Subnets=s["alb_subnets"])["LoadBalancers"][0]
    tg = elb.create_target_group(Name=f"orders-tcp-{tag}", Protocol="TCP", Port=8080, VpcId=s["vpc"],
                                 TargetType="instance", HealthCheckProtocol="TCP")["TargetGroups"][0]
    elb.register_targets(TargetGroupArn=tg["TargetGroupArn"], Targets=[{"Id": i} for i in s["instances"]])
    listener = elb.create_listener(LoadBalancerArn=nlb["LoadBalancerArn"], Protocol="TCP", Port=80,
                                   DefaultActions=[{"Type": "forward", "TargetGroupArn": tg["TargetGroupArn"]}])
    integ = v2.create_integration(ApiId=s["api_id"], IntegrationType="HTTP_PROXY", IntegrationMethod="ANY",
                                  IntegrationUri=listener["Listeners"][0]["ListenerArn"], ConnectionType="VPC_LINK",
                                  ConnectionId=s["vpc_link_id"], PayloadFormatVersion="1.0")["IntegrationId"]
    v2.create_route(ApiId=s["api_id"], RouteKey="ANY /orders", Target=f"integrations/{integ}")


def apply_break(c, s, name):
    ec2, elb, apigw = c["ec2"], c["elbv2"], c["apigateway"]
    if name == "vpc-link-failed":
        arn = f"arn:aws:apigateway:{REGION}::/vpclinks/{s['vpc_link_id']}"
        apigw.tag_resource(resourceArn=arn, tags={TAG + "status": "FAILED",
                                                  TAG + "status-message": "NLB ARN is malformed or does not exist"})
    elif name == "endpoint-connection-rejected":
        ec2.create_tags(Resources=[s["service_id"]], Tags=[{"Key": TAG + "connection-state", "Value": "rejected"}])
    elif name == "websocket-api":
        # A WebSocket API beside the topology: listed by GetApis with the
        # HTTP APIs, and never judged as one.
        c["apigatewayv2"].create_api(Name="ws-chat", ProtocolType="WEBSOCKET",
                                     RouteSelectionExpression="$request.body.action")
    elif name == "endpoint-service-principal-removed":
        # Someone tidied the endpoint service's permissions: API Gateway's
        # account is gone from them; its connection is still available.
        owner = APIGW_ENDPOINT_OWNERS[REGION]
        ec2.modify_vpc_endpoint_service_permissions(
            ServiceId=s["service_id"], RemoveAllowedPrincipals=[f"arn:aws:iam::{owner}:root"])
    elif name == "endpoint-connection-foreign":
        # The only connection, available, belongs to another consumer: API
        # Gateway's own is gone.
        ec2.create_tags(Resources=[s["service_id"]], Tags=[{"Key": TAG + "connection-owner", "Value": "111122223333"}])
    elif name == "listener-removed":
        elb.delete_listener(ListenerArn=s["listener_arn"])
    elif name == "target-unhealthy":
        ec2.create_tags(Resources=s["instances"], Tags=[
            {"Key": TAG + "health", "Value": "unhealthy:Target.FailedHealthChecks"},
            {"Key": TAG + "health-description", "Value": "Health checks failed"}])
    elif name == "one-zone-unhealthy":
        # The instance in the second zone fails its health checks; the first
        # stays healthy.
        ec2.create_tags(Resources=s["instances"][1:], Tags=[
            {"Key": TAG + "health", "Value": "unhealthy:Target.FailedHealthChecks"},
            {"Key": TAG + "health-description", "Value": "Health checks failed"}])
    elif name == "nacl-denies-node-half":
        # A deny of the half of the first NLB subnet that holds the NLB's
        # node there: exact with the node's address, a shrug without it.
        tail = s["nlb_arn"].split(":loadbalancer/", 1)[1]
        enis = ec2.describe_network_interfaces(Filters=[{"Name": "description", "Values": [f"ELB {tail}"]}])
        ip = [e["PrivateIpAddress"] for e in enis["NetworkInterfaces"] if e["SubnetId"] == s["nlb_subnets"][0]][0]
        half = "128/25" if int(ip.split(".")[3]) >= 128 else "0/25"
        ec2.create_network_acl_entry(NetworkAclId=s["app_acl"], RuleNumber=40, Protocol="6", RuleAction="deny",
                                     Egress=False, CidrBlock=f"{s['net']}.1.{half}", PortRange={"From": 8080, "To": 8080})
    elif name == "nlb-route-via-appliance":
        # The NLB's subnets get a table of their own whose route to the first
        # app subnet, more specific than the local one, goes to an appliance.
        rt = ec2.create_route_table(VpcId=s["vpc"])["RouteTable"]["RouteTableId"]
        eni = ec2.create_network_interface(SubnetId=s["nlb_subnets"][0],
                                           Description="inspection appliance")["NetworkInterface"]["NetworkInterfaceId"]
        ec2.create_route(RouteTableId=rt, DestinationCidrBlock=f"{s['net']}.11.0/24", NetworkInterfaceId=eni)
        for sid in s["nlb_subnets"]:
            ec2.associate_route_table(RouteTableId=rt, SubnetId=sid)
    elif name == "nacl-return-gap":
        # The app subnets' replies may use only ports 32768-65535: every
        # connection whose port the load balancer picks below that fails.
        ec2.create_network_acl_entry(NetworkAclId=s["app_acl"], RuleNumber=50, Protocol="6", RuleAction="deny",
                                     Egress=True, CidrBlock=f"{s['net']}.0.0/16",
                                     PortRange={"From": 1024, "To": 32767})
    elif name == "nacl-admits-health-port-only":
        # Health checks move to 8081, which the security group and the ACL
        # admit; the ACL no longer admits the traffic port 8080.
        elb.modify_target_group(TargetGroupArn=s["target_group_arn"], HealthCheckPort="8081")
        ec2.authorize_security_group_ingress(GroupId=s["app_sg"], IpPermissions=[{
            "IpProtocol": "tcp", "FromPort": 8081, "ToPort": 8081,
            "IpRanges": [{"CidrIp": f"{s['net']}.1.0/24"}, {"CidrIp": f"{s['net']}.2.0/24"}]}])
        ec2.replace_network_acl_entry(NetworkAclId=s["app_acl"], RuleNumber=100, Protocol="6", RuleAction="allow",
                                      Egress=False, CidrBlock=f"{s['net']}.0.0/16",
                                      PortRange={"From": 8081, "To": 8081})
    elif name == "nacl-return-denied":
        ec2.create_network_acl_entry(NetworkAclId=s["app_acl"], RuleNumber=50, Protocol="6", RuleAction="deny",
                                     Egress=True, CidrBlock=f"{s['net']}.0.0/16",
                                     PortRange={"From": 1024, "To": 65535})
    elif name == "target-sg-revoked":
        ec2.revoke_security_group_ingress(GroupId=s["app_sg"], IpPermissions=[{
            "IpProtocol": "tcp", "FromPort": 8080, "ToPort": 8080,
            "IpRanges": [{"CidrIp": f"{s['net']}.1.0/24"}, {"CidrIp": f"{s['net']}.2.0/24"}]}])
    elif name == "stage-variable-wrong":
        apigw.update_stage(restApiId=s["api_id"], stageName="prod", patchOperations=[
            {"op": "replace", "path": "/variables/vpcLinkId", "value": "nosuch"}])
    elif name == "nlb-deleted":
        elb.delete_load_balancer(LoadBalancerArn=s["nlb_arn"])
    elif name == "tls-listener-other-host":
        # A TLS listener with a certificate for api.internal.example; the
        # integration verifies another host, and the change is deployed.
        pem, key = self_signed("api.internal.example")
        arn = c["acm"].import_certificate(Certificate=pem, PrivateKey=key)["CertificateArn"]
        tls_listener(c, s, arn, "orders.internal.example")
    elif name == "tls-listener-iam-certificate":
        # The same listener, presenting a certificate uploaded to IAM for the
        # host the integration verifies: read through IAM, its name matches.
        pem, key = self_signed("orders.internal.example")
        arn = c["iam"].upload_server_certificate(ServerCertificateName="orders-tls-" + s["api_id"],
                                                 CertificateBody=pem.decode(), PrivateKey=key.decode()
                                                 )["ServerCertificateMetadata"]["Arn"]
        tls_listener(c, s, arn, "orders.internal.example")
    elif name == "tls-listener-tls-targets":
        # A TLS listener for the integration's host in front of the TCP group,
        # whose targets now show (an HTTPS health check on the traffic port)
        # that they wait for TLS themselves.
        pem, key = self_signed("orders.internal.example")
        arn = c["acm"].import_certificate(Certificate=pem, PrivateKey=key)["CertificateArn"]
        elb.modify_target_group(TargetGroupArn=s["target_group_arn"], HealthCheckProtocol="HTTPS",
                                HealthCheckPort="traffic-port")
        tls_listener(c, s, arn, "orders.internal.example")
    elif name == "policy-outside-endpoint-denied":
        # The private-API pattern on a regional API: everyone allowed, and
        # denied unless the call comes through one VPC endpoint.
        stmt = {"Principal": "*", "Action": "execute-api:Invoke", "Resource": "execute-api:/*"}
        policy = {"Version": "2012-10-17", "Statement": [
            dict(stmt, Effect="Allow"),
            dict(stmt, Effect="Deny", Condition={"StringNotEquals": {"aws:SourceVpce": "vpce-0a1b2c3d4e5f60718"}})]}
        apigw.update_rest_api(restApiId=s["api_id"], patchOperations=[
            {"op": "replace", "path": "/policy", "value": json.dumps(policy)}])
    elif name == "targets-initial":
        # Both targets just registered: their first health checks are running.
        ec2.create_tags(Resources=s["instances"], Tags=[
            {"Key": TAG + "health", "Value": "initial:Elb.RegistrationInProgress"}])
    elif name == "tls-listener-iam-sni":
        # An SNI certificate from IAM for another host beside the TLS
        # listener's default: every certificate the listener can present is
        # read (IAM's through GetServerCertificate) to pick the one it shows.
        pem, key = self_signed("reports.internal.example")
        arn = c["iam"].upload_server_certificate(ServerCertificateName="reports-tls-" + s["api_id"],
                                                 CertificateBody=pem.decode(), PrivateKey=key.decode()
                                                 )["ServerCertificateMetadata"]["Arn"]
        tls = [l for l in elb.describe_listeners(LoadBalancerArn=s["nlb_arn"])["Listeners"] if l["Port"] == 443]
        elb.add_listener_certificates(ListenerArn=tls[0]["ListenerArn"], Certificates=[{"CertificateArn": arn}])
    elif name == "alb-listener-https":
        # The ALB listener moves to HTTPS on 443 (the groups follow); the
        # integration has no tlsConfig, so API Gateway still sends plain HTTP.
        pem, key = self_signed("catalog.internal.example")
        cert = c["acm"].import_certificate(Certificate=pem, PrivateKey=key)["CertificateArn"]
        elb.modify_listener(ListenerArn=s["listener_arn"], Protocol="HTTPS", Port=443,
                            Certificates=[{"CertificateArn": cert}], SslPolicy="ELBSecurityPolicy-TLS13-1-2-2021-06")
        for gid, way, peer in [(s["link_sg"], "egress", s["alb_sg"]), (s["alb_sg"], "ingress", s["link_sg"])]:
            perm = [{"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "UserIdGroupPairs": [{"GroupId": peer}]}]
            getattr(ec2, f"authorize_security_group_{way}")(GroupId=gid, IpPermissions=perm)
    elif name == "integration-tls-config":
        # The integration verifies catalog.internal.example: TLS to the listener.
        v2 = c["apigatewayv2"]
        for i in v2.get_integrations(ApiId=s["api_id"])["Items"]:
            if i.get("IntegrationUri") == s["listener_arn"]:
                v2.update_integration(ApiId=s["api_id"], IntegrationId=i["IntegrationId"],
                                      TlsConfig={"ServerNameToVerify": "catalog.internal.example"})
    elif name == "integration-changed-after-deployment":
        set_uri(apigw, s, f"http://{s['nlb_dns']}:8080/orders")
    elif name == "link-v2-inactive":
        arn = f"arn:aws:apigateway:{REGION}::/vpclinks/{s['vpc_link_id']}"
        c["apigatewayv2"].tag_resource(ResourceArn=arn, Tags={
            TAG + "status": "INACTIVE",
            TAG + "status-message": "VPC link is inactive because it has not been used for 60 days"})
    elif name == "link-sg-egress-removed":
        ec2.revoke_security_group_egress(GroupId=s["link_sg"], IpPermissions=[{
            "IpProtocol": "tcp", "FromPort": 80, "ToPort": 80, "UserIdGroupPairs": [{"GroupId": s["alb_sg"]}]}])
    elif name == "search-group-emptied":
        elb.deregister_targets(TargetGroupArn=s["search_tg"], Targets=[{"Id": ip} for ip in s["search_ips"]])
    elif name == "authorizer-without-permission":
        token_authorizer(c, s, permit=False)
    elif name == "authorizer-with-permission":
        token_authorizer(c, s, permit=True)
    elif name == "cloudfront-http-only":
        cloudfront_in_front(c, s, "http-only")
    elif name == "cloudfront-https-only":
        cloudfront_in_front(c, s, "https-only")
    elif name == "cloudfront-forwards-host":
        cloudfront_in_front(c, s, "https-only", headers=("Authorization", "Host"))
    elif name == "api-prefix-route":
        api_prefix_route(c, s)
    elif name == "execution-log-errors":
        execution_log_errors(c, s)
    elif name == "custom-domain":
        custom_domain(c, s)
    elif name == "lambda-route":
        lambda_route(c, s, permit=True)
    elif name == "lambda-route-unpermitted":
        lambda_route(c, s, permit=False)
    elif name == "lambda-route-throttled":
        lambda_route(c, s, permit=True, concurrency=0)
    elif name == "api-key-route-no-plan":
        api_key_route(c, s, plan=False)
    elif name == "api-key-route-disabled-key":
        api_key_route(c, s, plan=True, key_enabled=False)
    elif name == "api-key-route-plan":
        api_key_route(c, s, plan=True)
    elif name == "stage-burst-zero":
        apigw.update_stage(restApiId=s["api_id"], stageName="prod", patchOperations=[
            {"op": "replace", "path": "/*/*/throttling/burstLimit", "value": "0"}])
    elif name == "execute-api-disabled":
        # Callers are to use the custom domain only (moto reads the patch's
        # value as a truthy string, so only "true" is sent).
        if "nlb_arn" in s:
            apigw.update_rest_api(restApiId=s["api_id"], patchOperations=[
                {"op": "replace", "path": "/disableExecuteApiEndpoint", "value": "true"}])
        else:
            c["apigatewayv2"].update_api(ApiId=s["api_id"], DisableExecuteApiEndpoint=True)
    elif name == "alb-idle-10s":
        # The ALB closes idle connections after 10 s; the integration waits 30.
        elb.modify_load_balancer_attributes(LoadBalancerArn=s["alb_arn"], Attributes=[
            {"Key": "idle_timeout.timeout_seconds", "Value": "10"}])
    elif name == "cloud-map-route":
        cloud_map_route(c, s)
    elif name == "prefix-list-rule":
        prefix_list_rule(c, s)
    elif name == "nlb-behind-link":
        nlb_behind_link(c, s)
    elif name == "nlb-preserve-ip-off":
        tgs = c["elbv2"].describe_target_groups()["TargetGroups"]
        arn = [t["TargetGroupArn"] for t in tgs if t["TargetGroupName"] == f"orders-tcp-{s['api_id'][:6]}"][0]
        c["elbv2"].modify_target_group_attributes(TargetGroupArn=arn, Attributes=[
            {"Key": "preserve_client_ip.enabled", "Value": "false"}])
    elif name == "nlb-to-alb":
        nlb_to_alb(c, s)
    elif name == "two-more-apis":
        more_apis_on_the_same_link(c, s)
    elif name == "logging-off":
        apigw.update_stage(restApiId=s["api_id"], stageName="prod", patchOperations=[
            {"op": "replace", "path": "/*/*/logging/loglevel", "value": "OFF"}])
    else:
        raise SystemExit(f"unknown break {name}")


def main():
    global REGION
    p = argparse.ArgumentParser()
    p.add_argument("--endpoint", required=True)
    p.add_argument("--state")
    p.add_argument("--region", default=REGION)
    sub = p.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("build")
    b.add_argument("topology", choices=["rest-v1", "http-v2"])
    b.add_argument("--suffix", required=True)
    b.add_argument("--octet", type=int, default=30)
    k = sub.add_parser("break")
    k.add_argument("name")
    args = p.parse_args()
    REGION = args.region
    if args.cmd == "build":
        c = clients(args.endpoint)
        build = {"rest-v1": build_rest_v1, "http-v2": build_http_v2}[args.topology]
        state = build(c, args.suffix, args.octet)
        state["region"] = REGION
        json.dump(state, sys.stdout)
        print()
    else:
        with open(args.state) as f:
            state = json.load(f)
        REGION = state.get("region", REGION)
        apply_break(clients(args.endpoint), state, args.name)


if __name__ == "__main__":
    main()
