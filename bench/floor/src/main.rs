//! Minimal Leptos + router + gloo-net page: fetch the devbox list, paint the first row.
use leptos::prelude::*;
use leptos_router::{
    components::{Route, Router, Routes},
    path,
};
use serde::Deserialize;

#[derive(Clone, Deserialize)]
struct Devbox {
    id: String,
}

#[derive(Clone, Deserialize)]
struct DevboxList {
    devboxes: Vec<Devbox>,
}

async fn load() -> Result<DevboxList, String> {
    gloo_net::http::Request::get("/v1/devboxes?limit=20")
        .header("Authorization", "Bearer floor")
        .send()
        .await
        .map_err(|e| e.to_string())?
        .json()
        .await
        .map_err(|e| e.to_string())
}

#[component]
fn List() -> impl IntoView {
    let list = LocalResource::new(load);
    view! {
        <table>
            <tbody>
                {move || {
                    list.get()
                        .map(|r| match r {
                            Ok(l) => {
                                l.devboxes
                                    .into_iter()
                                    .map(|d| view! { <tr class="row"><td>{d.id}</td></tr> })
                                    .collect_view()
                                    .into_any()
                            }
                            Err(e) => view! { <tr><td>{e}</td></tr> }.into_any(),
                        })
                }}
            </tbody>
        </table>
    }
}

fn main() {
    leptos::mount::mount_to_body(|| {
        view! {
            <Router>
                <Routes fallback=|| "not found">
                    <Route path=path!("/") view=List />
                    <Route path=path!("/floor") view=List />
                </Routes>
            </Router>
        }
    });
}
