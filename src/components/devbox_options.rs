//! The `<option>`s of a devbox scope picker (Snapshots filter, Cleanup scope).

use leptos::prelude::*;
use snapdeck_api::Devbox;

use crate::fmt::middle_truncate;

/// One `<option>` per devbox, labelled "name (dbx_3f9…a21c)", with `current` selected.
/// A devbox in the URL that is not (yet) listed still gets an option, so the picker
/// never silently shows another scope than the one in effect.
pub fn devbox_options(devboxes: Vec<Devbox>, current: Option<String>) -> impl IntoView {
    let mut options: Vec<(String, String)> = devboxes
        .into_iter()
        .map(|d| {
            let label = match &d.name {
                Some(n) if !n.is_empty() => format!("{n} ({})", middle_truncate(&d.id)),
                _ => d.id.clone(),
            };
            (d.id, label)
        })
        .collect();
    if let Some(c) = &current
        && !options.iter().any(|(id, _)| id == c)
    {
        options.push((c.clone(), c.clone()));
    }
    options
        .into_iter()
        .map(|(id, label)| {
            let selected = current.as_deref() == Some(id.as_str());
            view! { <option value=id selected=selected>{label}</option> }
        })
        .collect_view()
}
