//! The list endpoints' query strings, parsed into the store's typed arguments
//! ([`Paging`], [`MetadataFilter`]); each resource module builds its own query from these.
//! Parse errors are 400s that name the parameter.

use snapdeck_api::MetadataFilter;

use crate::error::{Error, Params, Result};
use crate::store::{DEFAULT_LIMIT, MAX_LIMIT, Paging};

/// `limit`: default 20, at most 5000 (larger values are clamped, as a page size is a
/// wish, not a contract); zero or garbage is a 400.
pub fn limit(params: &Params) -> Result<usize> {
    match params.non_empty("limit") {
        None => Ok(DEFAULT_LIMIT),
        Some(v) => match v.parse::<usize>() {
            Ok(n) if n >= 1 => Ok(n.min(MAX_LIMIT)),
            _ => Err(Error::BadRequest(format!(
                "limit must be an integer between 1 and 5000, got {v:?}"
            ))),
        },
    }
}

/// `limit`, `starting_after` and `include_total_count` (default true).
pub fn paging(params: &Params) -> Result<Paging> {
    Ok(Paging {
        starting_after: params.non_empty("starting_after").map(str::to_owned),
        limit: limit(params)?,
        include_total_count: params.bool("include_total_count", true)?,
    })
}

/// The `search` list filter, also spelled `name`.
pub fn search(params: &Params) -> Option<String> {
    params
        .non_empty("search")
        .or(params.non_empty("name"))
        .map(str::to_owned)
}

/// The metadata filters of the query, in order: `metadata[k]=v` and
/// `metadata[k][in]=v1,v2`. A plain map cannot hold these generic keys, which is why
/// [`Params`] keeps the pairs.
pub fn metadata_filters(params: &Params) -> Result<Vec<MetadataFilter>> {
    let mut filters = Vec::new();
    for (name, value) in &params.0 {
        let Some(rest) = name.strip_prefix("metadata[") else {
            continue;
        };
        let Some((key, tail)) = rest.split_once(']') else {
            return Err(Error::BadRequest(format!("malformed filter {name:?}")));
        };
        match tail {
            "" => filters.push(MetadataFilter::Eq {
                key: key.to_owned(),
                value: value.clone(),
            }),
            "[in]" => filters.push(MetadataFilter::In {
                key: key.to_owned(),
                values: value.split(',').map(str::to_owned).collect(),
            }),
            _ => return Err(Error::BadRequest(format!("malformed filter {name:?}"))),
        }
    }
    Ok(filters)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(query: &str) -> Params {
        Params(serde_urlencoded::from_str(query).expect("query"))
    }

    #[test]
    fn metadata_filters_parse_generic_keys_including_dots() {
        let filters = metadata_filters(&params(
            "metadata%5Bsnapdeck.pinned%5D=true&metadata[env][in]=dev,prod&limit=3",
        ))
        .expect("parse");
        assert_eq!(
            filters,
            [
                MetadataFilter::Eq {
                    key: "snapdeck.pinned".into(),
                    value: "true".into()
                },
                MetadataFilter::In {
                    key: "env".into(),
                    values: vec!["dev".into(), "prod".into()]
                },
            ]
        );
        assert!(metadata_filters(&params("metadata[env][nin]=x")).is_err());
        assert!(metadata_filters(&params("metadata[env=x")).is_err());
    }
}
