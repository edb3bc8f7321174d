//! EC2 reads and their conversion to the snapshot model.
//!
//! Lookups by id use filters (`group-id`, `subnet-id`, ...) rather than id
//! lists: an id list fails the whole call when one id is gone, a filter just
//! leaves it out, which is then recorded as `NotFound`. Filters take at most
//! 200 values, so ids are batched by the resource table's batch size.

use std::collections::BTreeMap;

use aws_sdk_ec2::Client;
use aws_sdk_ec2::types as t;
use aws_sdk_ec2::types::Filter;

use apigw_audit_checks::model;
use apigw_audit_checks::model::{
    EndpointConnection, EndpointService, Failure, FailureKind, Fetched, Instance, NaclEntry,
    NetworkAcl, NetworkInterface, PrefixList, RouteTable, SecurityGroup, SgRule, Subnet, VpcRoute,
};

use apigw_audit_checks::resources::Kind;

use super::error::{Op, classify};
use super::plumbing::{fetched, found_or_missing, in_batches};

fn filter(name: &str, values: &[String]) -> Filter {
    Filter::builder()
        .name(name)
        .set_values(Some(values.to_vec()))
        .build()
}

/// The answer for an id a filtered describe did not return.
fn missing<'o>(op: &'o Op, what: &'o str) -> impl Fn(&str) -> Failure + 'o {
    move |id| {
        op.failure(
            FailureKind::NotFound,
            None,
            format!("no {what} {id} in this account and region"),
        )
    }
}

pub async fn describe_instances(c: &Client, ids: &[String]) -> BTreeMap<String, Fetched<Instance>> {
    let op = &Op::named("ec2:DescribeInstances");
    in_batches(Kind::Instance, ids, move |chunk| async move {
        let r: Vec<t::Reservation> = c
            .describe_instances()
            .filters(filter("instance-id", &chunk))
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(|e| classify(op, &e))?;
        let found = r
            .iter()
            .flat_map(|res| res.instances())
            .filter_map(instance);
        Ok(found_or_missing(
            &chunk,
            found.collect(),
            missing(op, "instance"),
        ))
    })
    .await
}

fn instance(i: &t::Instance) -> Option<(String, Instance)> {
    let id = i.instance_id()?.to_string();
    let primary = i
        .network_interfaces()
        .iter()
        .find(|n| n.attachment().and_then(|a| a.device_index()) == Some(0));
    let groups: Vec<String> = match primary {
        Some(eni) => eni
            .groups()
            .iter()
            .filter_map(|g| g.group_id().map(str::to_string))
            .collect(),
        None => i
            .security_groups()
            .iter()
            .filter_map(|g| g.group_id().map(str::to_string))
            .collect(),
    };
    Some((
        id.clone(),
        Instance {
            id,
            state: i
                .state()
                .and_then(|s| s.name())
                .map(|n| n.as_str().to_string()),
            vpc_id: i.vpc_id().map(str::to_string),
            subnet_id: i.subnet_id().map(str::to_string),
            private_ip: i.private_ip_address().map(str::to_string),
            availability_zone: i
                .placement()
                .and_then(|p| p.availability_zone())
                .map(str::to_string),
            security_groups: groups,
        },
    ))
}

/// The network interfaces holding each private address, within `vpc_id`
/// when given (the same private address can exist in several VPCs).
pub async fn describe_network_interfaces_by_ip(
    c: &Client,
    ips: &[String],
    vpc_id: Option<&str>,
) -> BTreeMap<String, Fetched<Vec<NetworkInterface>>> {
    let op = &Op::named("ec2:DescribeNetworkInterfaces");
    in_batches(Kind::NetworkInterface, ips, move |chunk| async move {
        let mut req = c
            .describe_network_interfaces()
            .filters(filter("addresses.private-ip-address", &chunk));
        if let Some(v) = vpc_id {
            req = req.filters(filter("vpc-id", &[v.to_string()]));
        }
        let enis: Vec<t::NetworkInterface> = req
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(|e| classify(op, &e))?;
        // An address no interface holds is a fact: `Ok(vec![])`.
        Ok(chunk
            .iter()
            .map(|ip| {
                let holding: Vec<NetworkInterface> = enis
                    .iter()
                    .filter(|e| {
                        e.private_ip_addresses()
                            .iter()
                            .any(|a| a.private_ip_address() == Some(ip))
                    })
                    .filter_map(eni)
                    .collect();
                (ip.clone(), Fetched::Ok(holding))
            })
            .collect())
    })
    .await
}

/// The description AWS gives a load balancer node's interface: `ELB `
/// followed by the ARN's `net/NAME/ID` (or `app/NAME/ID`).
fn lb_interface_description(lb_arn: &str) -> Option<String> {
    let (_, tail) = lb_arn.split_once(":loadbalancer/")?;
    Some(format!("ELB {tail}"))
}

/// Each load balancer's node interfaces, found by their description in
/// batched describes. A load balancer with none found gets `Ok(vec![])`.
pub async fn describe_lb_interfaces(
    c: &Client,
    lb_arns: &[String],
) -> BTreeMap<String, Fetched<Vec<NetworkInterface>>> {
    let op = &Op::named("ec2:DescribeNetworkInterfaces");
    in_batches(Kind::LbInterfaces, lb_arns, move |chunk| async move {
        let wanted: Vec<String> = chunk
            .iter()
            .filter_map(|a| lb_interface_description(a))
            .collect();
        let enis: Vec<t::NetworkInterface> = if wanted.is_empty() {
            Vec::new()
        } else {
            c.describe_network_interfaces()
                .filters(filter("description", &wanted))
                .into_paginator()
                .items()
                .send()
                .try_collect()
                .await
                .map_err(|e| classify(op, &e))?
        };
        Ok(chunk
            .iter()
            .map(|arn| {
                let desc = lb_interface_description(arn);
                let own: Vec<NetworkInterface> = enis
                    .iter()
                    .filter(|e| desc.is_some() && e.description() == desc.as_deref())
                    .filter_map(eni)
                    .collect();
                (arn.clone(), Fetched::Ok(own))
            })
            .collect())
    })
    .await
}

fn eni(e: &t::NetworkInterface) -> Option<NetworkInterface> {
    Some(NetworkInterface {
        id: e.network_interface_id()?.to_string(),
        subnet_id: e.subnet_id().map(str::to_string),
        vpc_id: e.vpc_id().map(str::to_string),
        private_ips: e
            .private_ip_addresses()
            .iter()
            .filter_map(|a| a.private_ip_address().map(str::to_string))
            .collect(),
        security_groups: e
            .groups()
            .iter()
            .filter_map(|g| g.group_id().map(str::to_string))
            .collect(),
        description: e.description().map(str::to_string),
    })
}

pub async fn describe_subnets(c: &Client, ids: &[String]) -> BTreeMap<String, Fetched<Subnet>> {
    let op = &Op::named("ec2:DescribeSubnets");
    in_batches(Kind::Subnet, ids, move |chunk| async move {
        let subnets: Vec<t::Subnet> = c
            .describe_subnets()
            .filters(filter("subnet-id", &chunk))
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(|e| classify(op, &e))?;
        let found = subnets.iter().filter_map(subnet).collect();
        Ok(found_or_missing(&chunk, found, missing(op, "subnet")))
    })
    .await
}

fn subnet(s: &t::Subnet) -> Option<(String, Subnet)> {
    let id = s.subnet_id()?.to_string();
    Some((
        id.clone(),
        Subnet {
            id,
            arn: s.subnet_arn().map(str::to_string),
            vpc_id: s.vpc_id().map(str::to_string),
            availability_zone: s.availability_zone().map(str::to_string),
            cidr_block: s.cidr_block().map(str::to_string),
            ipv6_cidr_blocks: s
                .ipv6_cidr_block_association_set()
                .iter()
                .filter_map(|a| a.ipv6_cidr_block().map(str::to_string))
                .collect(),
        },
    ))
}

fn sg_rule(p: &t::IpPermission) -> SgRule {
    SgRule {
        protocol: p.ip_protocol().unwrap_or("-1").to_string(),
        from_port: p.from_port(),
        to_port: p.to_port(),
        ipv4_ranges: p
            .ip_ranges()
            .iter()
            .filter_map(|r| r.cidr_ip().map(str::to_string))
            .collect(),
        ipv6_ranges: p
            .ipv6_ranges()
            .iter()
            .filter_map(|r| r.cidr_ipv6().map(str::to_string))
            .collect(),
        prefix_list_ids: p
            .prefix_list_ids()
            .iter()
            .filter_map(|r| r.prefix_list_id().map(str::to_string))
            .collect(),
        group_ids: p
            .user_id_group_pairs()
            .iter()
            .filter_map(|g| g.group_id().map(str::to_string))
            .collect(),
    }
}

pub async fn describe_security_groups(
    c: &Client,
    ids: &[String],
) -> BTreeMap<String, Fetched<SecurityGroup>> {
    let op = &Op::named("ec2:DescribeSecurityGroups");
    in_batches(Kind::SecurityGroup, ids, move |chunk| async move {
        let groups: Vec<t::SecurityGroup> = c
            .describe_security_groups()
            .filters(filter("group-id", &chunk))
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(|e| classify(op, &e))?;
        let found = groups.iter().filter_map(security_group).collect();
        Ok(found_or_missing(
            &chunk,
            found,
            missing(op, "security group"),
        ))
    })
    .await
}

fn security_group(g: &t::SecurityGroup) -> Option<(String, SecurityGroup)> {
    let id = g.group_id()?.to_string();
    Some((
        id.clone(),
        SecurityGroup {
            id,
            name: g.group_name().map(str::to_string),
            vpc_id: g.vpc_id().map(str::to_string),
            owner_id: g.owner_id().map(str::to_string),
            ingress: g.ip_permissions().iter().map(sg_rule).collect(),
            egress: g.ip_permissions_egress().iter().map(sg_rule).collect(),
        },
    ))
}

/// The network ACL associated with each subnet. Every subnet has exactly
/// one; a subnet AWS returns none for is an error, never "no ACL".
pub async fn describe_network_acls(
    c: &Client,
    subnet_ids: &[String],
) -> BTreeMap<String, Fetched<NetworkAcl>> {
    let op = &Op::named("ec2:DescribeNetworkAcls");
    in_batches(Kind::NetworkAcl, subnet_ids, move |chunk| async move {
        let acls: Vec<t::NetworkAcl> = c
            .describe_network_acls()
            .filters(filter("association.subnet-id", &chunk))
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(|e| classify(op, &e))?;
        let mut by_subnet: BTreeMap<String, NetworkAcl> = BTreeMap::new();
        for a in &acls {
            let Some(acl) = network_acl(a) else {
                continue;
            };
            for s in a.associations().iter().filter_map(|x| x.subnet_id()) {
                by_subnet.insert(s.to_string(), acl.clone());
            }
        }
        Ok(chunk
            .iter()
            .map(|sid| {
                let v = match by_subnet.remove(sid) {
                    Some(acl) => Fetched::Ok(acl),
                    None => Fetched::Error(op.failure(
                        FailureKind::Malformed,
                        None,
                        format!("AWS returned no network ACL associated with subnet {sid}"),
                    )),
                };
                (sid.clone(), v)
            })
            .collect())
    })
    .await
}

/// An ACL with its entries sorted as AWS evaluates them: by direction,
/// then rule number.
fn network_acl(a: &t::NetworkAcl) -> Option<NetworkAcl> {
    let mut entries: Vec<NaclEntry> = a
        .entries()
        .iter()
        .filter_map(|e| {
            Some(NaclEntry {
                rule_number: e.rule_number()?,
                egress: e.egress().unwrap_or(false),
                protocol: e.protocol().unwrap_or("-1").to_string(),
                action: e
                    .rule_action()
                    .map(|r| r.as_str().to_string())
                    .unwrap_or_default(),
                cidr_block: e.cidr_block().map(str::to_string),
                ipv6_cidr_block: e.ipv6_cidr_block().map(str::to_string),
                from_port: e.port_range().and_then(|p| p.from()),
                to_port: e.port_range().and_then(|p| p.to()),
            })
        })
        .collect();
    entries.sort_by_key(|e| (e.egress, e.rule_number));
    Some(NetworkAcl {
        id: a.network_acl_id()?.to_string(),
        vpc_id: a.vpc_id().map(str::to_string),
        owner_id: a.owner_id().map(str::to_string),
        is_default: a.is_default(),
        entries,
    })
}

/// The route table each subnet uses: the table associated with it, else
/// its VPC's main table (VPC guide, "Route tables": a subnet without an
/// explicit association uses the main route table). Subnets whose VPC the
/// want names are answered by one describe of those VPCs' tables; the
/// others by their associations, then their VPC's main table, the VPC read
/// from DescribeSubnets.
pub async fn describe_route_tables(
    c: &Client,
    subnets: &[(String, Option<String>)],
) -> BTreeMap<String, Fetched<RouteTable>> {
    let op = &Op::named("ec2:DescribeRouteTables");
    let (scoped, unscoped): (Vec<_>, Vec<_>) = subnets.iter().partition(|(_, v)| v.is_some());
    let mut out = BTreeMap::new();
    if !scoped.is_empty() {
        let vpcs: Vec<String> = scoped
            .iter()
            .filter_map(|(_, v)| v.clone())
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        let tables = route_tables_where(c, op, "vpc-id", &vpcs).await;
        for (sid, vpc) in &scoped {
            let v = match &tables {
                Err(f) => Fetched::Error(f.clone()),
                Ok(ts) => table_of(op, ts, sid, vpc.as_deref().unwrap_or_default()),
            };
            out.insert(sid.clone(), v);
        }
    }
    if unscoped.is_empty() {
        return out;
    }
    let ids: Vec<String> = unscoped.iter().map(|(s, _)| s.clone()).collect();
    let explicit = in_batches(Kind::RouteTable, &ids, move |chunk| async move {
        let tables = route_tables_where(c, op, "association.subnet-id", &chunk).await?;
        let mut by_subnet = BTreeMap::new();
        for t in &tables {
            let Some(rt) = route_table(t) else { continue };
            for s in t.associations().iter().filter_map(|a| a.subnet_id()) {
                by_subnet.insert(s.to_string(), Fetched::Ok(rt.clone()));
            }
        }
        // Only explicit associations here: the others use the main table.
        Ok(chunk
            .iter()
            .filter_map(|s| by_subnet.remove_entry(s))
            .collect())
    })
    .await;
    let rest: Vec<String> = ids
        .into_iter()
        .filter(|s| !explicit.contains_key(s))
        .collect();
    out.extend(explicit);
    if !rest.is_empty() {
        out.extend(main_tables(c, op, &rest).await);
    }
    out
}

/// Every route table of `vpcs` (`vpc-id`), or those associated with
/// `values` (`association.subnet-id`).
async fn route_tables_where(
    c: &Client,
    op: &Op,
    name: &str,
    values: &[String],
) -> Result<Vec<t::RouteTable>, Failure> {
    c.describe_route_tables()
        .filters(filter(name, values))
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| classify(op, &e))
}

/// The table `sid` uses among `tables` of its VPC: its own association,
/// else the VPC's main table.
fn table_of(op: &Op, tables: &[t::RouteTable], sid: &str, vpc: &str) -> Fetched<RouteTable> {
    let own = tables
        .iter()
        .find(|t| t.associations().iter().any(|a| a.subnet_id() == Some(sid)));
    let main = || {
        tables.iter().find(|t| {
            t.vpc_id() == Some(vpc) && t.associations().iter().any(|a| a.main().unwrap_or(false))
        })
    };
    match own.or_else(main).and_then(route_table) {
        Some(t) => Fetched::Ok(t),
        None => Fetched::Error(op.failure(
            FailureKind::Malformed,
            None,
            format!(
                "AWS returned no route table for subnet {sid} nor a main route table for {vpc}"
            ),
        )),
    }
}

/// The main table of each subnet's VPC, for subnets with no table of their
/// own, the VPC read from the subnet.
async fn main_tables(
    c: &Client,
    op: &Op,
    rest: &[String],
) -> BTreeMap<String, Fetched<RouteTable>> {
    let subnets = describe_subnets(c, rest).await;
    let vpc_of = |sid: &str| -> Result<String, Failure> {
        match subnets.get(sid) {
            Some(Fetched::Ok(s)) if s.vpc_id.is_some() => Ok(s.vpc_id.clone().unwrap_or_default()),
            Some(Fetched::Error(f) | Fetched::NotFound(f)) => Err(f.clone()),
            _ => Err(op.failure(
                FailureKind::Malformed,
                None,
                format!("the VPC of subnet {sid} is not known"),
            )),
        }
    };
    let vpcs: Vec<String> = rest
        .iter()
        .filter_map(|s| vpc_of(s).ok())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let tables = if vpcs.is_empty() {
        Ok(Vec::new())
    } else {
        route_tables_where(c, op, "vpc-id", &vpcs).await
    };
    rest.iter()
        .map(|sid| {
            let v = match (&tables, vpc_of(sid)) {
                (Err(f), _) => Fetched::Error(f.clone()),
                (_, Err(f)) => Fetched::Error(f),
                (Ok(ts), Ok(vpc)) => table_of(op, ts, sid, &vpc),
            };
            (sid.clone(), v)
        })
        .collect()
}

fn route_table(t: &t::RouteTable) -> Option<RouteTable> {
    let routes = t
        .routes()
        .iter()
        .map(|r| VpcRoute {
            destination: r.destination_cidr_block().map(str::to_string),
            destination_prefix_list: r.destination_prefix_list_id().map(str::to_string),
            target: r
                .gateway_id()
                .or(r.nat_gateway_id())
                .or(r.transit_gateway_id())
                .or(r.vpc_peering_connection_id())
                .or(r.network_interface_id())
                .or(r.instance_id())
                .or(r.local_gateway_id())
                .or(r.carrier_gateway_id())
                .or(r.core_network_arn())
                .map(str::to_string),
            state: r.state().map(|s| s.as_str().to_string()),
        })
        .collect();
    Some(RouteTable {
        id: t.route_table_id()?.to_string(),
        vpc_id: t.vpc_id().map(str::to_string),
        main: t.associations().iter().any(|a| a.main().unwrap_or(false)),
        routes,
    })
}

pub async fn get_prefix_list(c: &Client, id: &str) -> Fetched<PrefixList> {
    let op = Op::named("ec2:GetManagedPrefixListEntries");
    let r: Result<Vec<t::PrefixListEntry>, _> = c
        .get_managed_prefix_list_entries()
        .prefix_list_id(id)
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await;
    fetched(r.map_err(|e| classify(&op, &e)).map(|entries| {
        PrefixList {
            id: id.to_string(),
            name: None,
            cidrs: entries
                .iter()
                .filter_map(|e| e.cidr().map(str::to_string))
                .collect(),
        }
    }))
}

/// Every endpoint service configuration the account owns.
pub async fn describe_endpoint_services(c: &Client) -> Result<Vec<EndpointService>, Failure> {
    let op = Op::named("ec2:DescribeVpcEndpointServiceConfigurations");
    let items: Vec<t::ServiceConfiguration> = c
        .describe_vpc_endpoint_service_configurations()
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| classify(&op, &e))?;
    Ok(items
        .iter()
        .filter_map(|s| {
            Some(EndpointService {
                service_id: s.service_id()?.to_string(),
                service_name: s.service_name().map(str::to_string),
                state: s
                    .service_state()
                    .map(|st| model::EndpointServiceState::from(st.as_str())),
                acceptance_required: s.acceptance_required(),
                network_load_balancer_arns: s.network_load_balancer_arns().to_vec(),
            })
        })
        .collect())
}

/// The endpoint connections of each service id.
pub async fn describe_endpoint_connections(
    c: &Client,
    service_ids: &[String],
) -> BTreeMap<String, Fetched<Vec<EndpointConnection>>> {
    let op = &Op::named("ec2:DescribeVpcEndpointConnections");
    in_batches(
        Kind::EndpointConnections,
        service_ids,
        move |chunk| async move {
            let conns: Vec<t::VpcEndpointConnection> = c
                .describe_vpc_endpoint_connections()
                .filters(filter("service-id", &chunk))
                .into_paginator()
                .items()
                .send()
                .try_collect()
                .await
                .map_err(|e| classify(op, &e))?;
            let mut by_svc: BTreeMap<String, Vec<EndpointConnection>> =
                chunk.iter().map(|s| (s.clone(), Vec::new())).collect();
            for conn in &conns {
                // Only the services asked for: a filter is a request, not a promise.
                let Some(list) = conn.service_id().and_then(|s| by_svc.get_mut(s)) else {
                    continue;
                };
                list.push(EndpointConnection {
                    vpc_endpoint_id: conn.vpc_endpoint_id().map(str::to_string),
                    owner: conn.vpc_endpoint_owner().map(str::to_string),
                    state: conn
                        .vpc_endpoint_state()
                        .map(|s| model::EndpointConnectionState::from(s.as_str())),
                });
            }
            Ok(by_svc
                .into_iter()
                .map(|(svc, mut list)| {
                    list.sort_by(|a, b| a.vpc_endpoint_id.cmp(&b.vpc_endpoint_id));
                    (svc, Fetched::Ok(list))
                })
                .collect())
        },
    )
    .await
}

/// The principals an endpoint service allows to connect (its
/// AllowedPrincipals), as ARNs or `*`.
pub async fn describe_service_permissions(
    c: &Client,
    service_id: &str,
) -> Result<Vec<String>, Failure> {
    let op = Op::named("ec2:DescribeVpcEndpointServicePermissions");
    let items: Vec<t::AllowedPrincipal> = c
        .describe_vpc_endpoint_service_permissions()
        .service_id(service_id)
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| classify(&op, &e))?;
    let mut out: Vec<String> = items
        .iter()
        .filter_map(|p| p.principal().map(str::to_string))
        .collect();
    out.sort();
    Ok(out)
}

/// The regions enabled for the account (`DescribeRegions`, opted-in ones
/// included, disabled ones left out), sorted.
pub async fn describe_regions(c: &Client) -> Result<Vec<String>, Failure> {
    let op = Op::named("ec2:DescribeRegions");
    let out = c
        .describe_regions()
        .send()
        .await
        .map_err(|e| classify(&op, &e))?;
    let mut names: Vec<String> = out
        .regions()
        .iter()
        .filter(|r| r.opt_in_status().is_none_or(|s| s != "not-opted-in"))
        .filter_map(|r| r.region_name().map(str::to_string))
        .collect();
    names.sort();
    names.dedup();
    Ok(names)
}
