//! Collate and choose: a result file read from each running child (JSON as key/value
//! rows, lines as text; a row whose values differ is marked), the snapshots each child
//! has taken since it started (count and newest commit message), a check command run in
//! each child on demand, and "continue with the best" — one confirm that lists what
//! happens to every child, then the steps with their outcome.

use leptos::prelude::*;
use leptos::task::spawn_local;
use snapdeck_api::{ExecutionDetail, SnapshotParams};
use snapdeck_core::fanout::{
    ATTEMPT_KEY, BATCH_KEY, Batch, OthersAction, Phase, Step, collate, column_order, continue_steps,
};
use snapdeck_core::{SnapshotWatch, WatchStep};

use crate::api::{Api, ApiError, SnapshotFilter, api_message, use_page_api};
use crate::components::ConfirmDialog;
use crate::hooks::use_now::now_ms;
use crate::hooks::use_refresh::use_refresh;
use crate::hooks::use_toasts::{Tone, use_toasts};

/// One child's answer to a read or a command.
type Answer<T> = Option<Result<T, String>>;

/// The compare table and the check command.
#[component]
pub(super) fn Compare(
    /// The batch as the page last read it.
    batch: Memo<Option<Batch>>,
    /// The attempt picked to continue with (shared with "continue with the best").
    chosen: RwSignal<Option<String>>,
) -> impl IntoView {
    let api = use_page_api();
    let path = RwSignal::new("/home/user/result.json".to_string());
    let command = RwSignal::new("cat result.json".to_string());
    // Each answer with the label it belongs to (the batch may change under the table).
    let results = RwSignal::new(Vec::<(String, Answer<String>)>::new());
    // What each child has snapshotted since it started: count, newest commit message.
    let taken = RwSignal::new(Vec::<Result<(usize, Option<String>, u64), String>>::new());
    // The row whose values order the columns ("" keeps the batch's order).
    let sort_key = RwSignal::new(String::new());
    let checks = RwSignal::new(Vec::<(String, Answer<ExecutionDetail>)>::new());
    let reading = RwSignal::new(false);
    let checking = RwSignal::new(false);
    let targets = move || -> Vec<(String, String, bool)> {
        batch.with_untracked(|b| {
            b.iter()
                .flat_map(|b| b.attempts.iter())
                .map(|a| {
                    (
                        a.label.clone(),
                        a.devbox.id.clone(),
                        a.phase() == Phase::Running,
                    )
                })
                .collect()
        })
    };

    let read = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let ids = targets();
        let targets_now: Vec<String> = ids.iter().map(|(_, id, _)| id.clone()).collect();
        let p = path.get_untracked();
        reading.set(true);
        spawn_local(async move {
            let all = in_each_running(ids, |id| {
                let p = p.clone();
                async move { api.read_file(&id, &p).await }
            })
            .await;
            results.set(all);
            reading.set(false);
            let since = futures::future::join_all(targets_now.iter().map(|id| async move {
                let filter = SnapshotFilter {
                    devbox_id: Some(id.clone()),
                    ..Default::default()
                };
                api.list_snapshots(&filter)
                    .await
                    .map(|mut l| {
                        l.sort_by_key(|s| std::cmp::Reverse(s.create_time_ms));
                        let newest = l
                            .first()
                            .and_then(|s| s.commit_message.clone().or(s.name.clone()));
                        let bytes = l.iter().filter_map(|s| s.size_bytes).sum::<u64>();
                        (l.len(), newest, bytes)
                    })
                    .map_err(|e| api_message(&e))
            }))
            .await;
            taken.set(since);
        });
    };
    let check = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let ids = targets();
        let c = command.get_untracked();
        if c.trim().is_empty() {
            return;
        }
        checking.set(true);
        spawn_local(async move {
            let all = in_each_running(ids, |id| {
                let c = c.clone();
                async move { api.execute_sync(&id, &c).await }
            })
            .await;
            checks.set(all);
            checking.set(false);
        });
    };
    let rows = Memo::new(move |_| {
        results.with(|r| {
            let texts: Vec<Option<String>> = r
                .iter()
                .map(|(_, a)| a.as_ref().and_then(|x| x.as_ref().ok().cloned()))
                .collect();
            collate(&texts)
        })
    });
    let order =
        Memo::new(move |_| rows.with(|r| column_order(r, &sort_key.get(), results.with(Vec::len))));
    // `items` in the columns' order.
    fn arranged<T: Clone>(items: &[T], order: &[usize]) -> Vec<T> {
        order
            .iter()
            .filter_map(|&i| items.get(i).cloned())
            .collect()
    }

    view! {
        <section class="sd-fanout__section" aria-labelledby="sd-fo-compare">
            <h2 class="sd-h2" id="sd-fo-compare">"Compare"</h2>
            <form class="sd-row" on:submit=read>
                <label for="sd-fo-path">"Result file"</label>
                <input id="sd-fo-path" class="sd-input sd-mono" autocomplete="off"
                    prop:value=move || path.get() on:input=move |e| path.set(event_target_value(&e)) />
                <button type="submit" class="sd-btn sd-btn--sm" disabled=move || reading.get()>
                    {move || if reading.get() { "Reading…" } else { "Read results" }}
                </button>
            </form>
            {move || (!results.with(Vec::is_empty)).then(|| {
                let order = order.get();
                let heads: Vec<String> = results.with(|r| arranged(r, &order).into_iter().map(|(l, _)| l).collect());
                let running = running_labels(batch);
                view! {
                    <div class="sd-row">
                        <label for="sd-fo-sort">"Sort by"</label>
                        <select id="sd-fo-sort" class="sd-input" on:change=move |e| sort_key.set(event_target_value(&e))>
                            <option value="" selected=move || sort_key.get().is_empty()>"batch order"</option>
                            {rows.get().into_iter().map(|r| {
                                let k = r.key.clone();
                                let k2 = r.key.clone();
                                view! { <option value=k selected=move || sort_key.get() == k2>{format!("{} (highest first)", r.key)}</option> }
                            }).collect_view()}
                        </select>
                    </div>
                    <div class="sd-tablewrap">
                        <table class="sd-table sd-compare" data-testid="compare-table">
                            <thead><tr><th scope="col">"Key"</th>{heads.iter().map(|l| {
                                let pick = l.clone();
                                let is_picked = l.clone();
                                let can = running.contains(l);
                                view! {
                                    <th scope="col" data-testid="compare-head" data-label=l.clone()>
                                        {l.clone()}
                                        {can.then(|| view! {
                                            <button type="button" class="sd-btn sd-btn--sm sd-btn--ghost sd-compare__pick"
                                                aria-pressed=move || chosen.with(|c| c.as_deref() == Some(is_picked.as_str())).to_string()
                                                on:click=move |_| chosen.set(Some(pick.clone()))>
                                                {format!("Pick {l}")}
                                            </button>
                                        })}
                                    </th>
                                }
                            }).collect_view()}</tr></thead>
                            <tbody>
                                <tr class="sd-muted">
                                    <th scope="row">"file"</th>
                                    {arranged(&results.get(), &order).into_iter().map(|(_, a)| view! { <td>{match a {
                                        Some(Ok(_)) => "read".to_string(),
                                        Some(Err(e)) => e,
                                        None => "—".into(),
                                    }}</td> }).collect_view()}
                                </tr>
                                {let order = order.clone(); move || (!taken.with(Vec::is_empty)).then(|| {
                                    let t = arranged(&taken.get(), &order);
                                    view! {
                                        <tr data-testid="compare-snapshots">
                                            <th scope="row">"snapshots since"</th>
                                            {t.iter().cloned().map(|t| view! { <td>{match t {
                                                Ok((0, _, _)) => "none".to_string(),
                                                Ok((n, Some(m), _)) => format!("{n} · newest “{m}”"),
                                                Ok((n, None, _)) => n.to_string(),
                                                Err(e) => e,
                                            }}</td> }).collect_view()}
                                        </tr>
                                        <tr data-testid="compare-size">
                                            <th scope="row">"their size"</th>
                                            {t.into_iter().map(|t| match t {
                                                Ok((_, _, b)) => view! { <td title=snapdeck_core::format::bytes_exact(b)>{snapdeck_core::format::bytes(b)}</td> }.into_any(),
                                                Err(_) => view! { <td>"—"</td> }.into_any(),
                                            }).collect_view()}
                                        </tr>
                                    }
                                })}
                                {rows.get().into_iter().map(|row| view! {
                                    <tr class:sd-compare__differs=row.differs class:sd-compare__sorted=sort_key.get_untracked() == row.key data-testid="compare-row" data-key=row.key.clone() data-differs=row.differs.to_string()>
                                        <th scope="row" class="sd-mono">{row.key.clone()}{row.differs.then_some(" ≠")}</th>
                                        {arranged(&row.values, &order).into_iter().map(|v| view! { <td class="sd-mono">{v.unwrap_or_else(|| "—".into())}</td> }).collect_view()}
                                    </tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                    </div>
                }
            })}
            <form class="sd-row" on:submit=check>
                <label for="sd-fo-check">"Check command"</label>
                <input id="sd-fo-check" class="sd-input sd-mono" autocomplete="off"
                    prop:value=move || command.get() on:input=move |e| command.set(event_target_value(&e)) />
                <button type="submit" class="sd-btn sd-btn--sm" disabled=move || checking.get()>
                    {move || if checking.get() { "Running…" } else { "Run in each" }}
                </button>
            </form>
            {move || (!checks.with(Vec::is_empty)).then(|| {
                view! {
                    <div class="sd-fanout__checks" data-testid="check-results">
                        {checks.get().into_iter().map(|(l, a)| view! {
                            <div class="sd-fanout__check" data-testid="check-result" data-label=l.clone()>
                                <strong>{l.clone()}</strong>
                                {match a {
                                    Some(Ok(x)) => view! {
                                        <span class=if x.exit_status == 0 { "sd-ok" } else { "sd-formerror" }>{format!("exit {}", x.exit_status)}</span>
                                        <pre class="sd-pre">{x.stdout}{x.stderr}</pre>
                                    }.into_any(),
                                    Some(Err(e)) => view! { <span class="sd-formerror">{e}</span> }.into_any(),
                                    None => view! { <span>"—"</span> }.into_any(),
                                }}
                            </div>
                        }).collect_view()}
                    </div>
                }
            })}
        </section>
    }
}

/// Runs `call` in every running child at once; each answer with its child's label (a
/// child not running answers "not running" without a request).
async fn in_each_running<T, F, Fut>(
    targets: Vec<(String, String, bool)>,
    call: F,
) -> Vec<(String, Answer<T>)>
where
    F: Fn(String) -> Fut,
    Fut: std::future::Future<Output = Result<T, ApiError>>,
{
    let calls = targets.into_iter().map(|(label, id, running)| {
        let call = running.then(|| call(id));
        async move {
            let answer = match call {
                None => Err("not running".to_string()),
                Some(f) => f.await.map_err(|e| api_message(&e)),
            };
            (label, Some(answer))
        }
    });
    futures::future::join_all(calls).await
}

/// A step's outcome as the list shows it.
#[derive(Debug, Clone, PartialEq)]
enum Outcome {
    Waiting,
    Running,
    Done(String),
    Failed(String),
}

/// "Continue with the best": pick a child; one confirm lists every child's step.
#[component]
pub(super) fn ContinueBest(
    /// The batch as the page last read it.
    batch: Memo<Option<Batch>>,
    /// Something changed: read the batch again.
    on_change: Callback<()>,
    /// The attempt picked (here or in the compare table).
    chosen: RwSignal<Option<String>>,
) -> impl IntoView {
    let api = use_page_api();
    let toasts = use_toasts();
    let version = use_refresh();
    let running = Memo::new(move |_| {
        batch.with(|b| {
            b.iter()
                .flat_map(|b| b.attempts.iter())
                .filter(|a| a.phase() == Phase::Running)
                .map(|a| a.label.clone())
                .collect::<Vec<_>>()
        })
    });
    let others = RwSignal::new(OthersAction::Shutdown);
    let confirming = RwSignal::new(false);
    // Steps started: the button stays off (one continue per page).
    let started = RwSignal::new(false);
    let progress = RwSignal::new(Vec::<(String, String, Outcome)>::new());
    let steps = move || {
        chosen
            .get()
            .and_then(|c| {
                batch.with_untracked(|b| b.as_ref().map(|b| continue_steps(b, &c, others.get())))
            })
            .unwrap_or_default()
    };
    let describe = |label: &str, s: &Step| match s {
        Step::SnapshotAndPin { .. } => format!(
            "{label}: snapshot it, then pin that snapshot (cleanup keeps it); it keeps running"
        ),
        Step::Shutdown { .. } => format!("{label}: shut down (its disk is discarded)"),
        Step::Suspend { .. } => format!("{label}: suspend"),
        Step::Leave { .. } => format!("{label}: left as it is (not running)"),
    };
    let go = move |_| {
        confirming.set(false);
        started.set(true);
        let list = steps();
        progress.set(
            list.iter()
                .map(|(l, s)| (l.clone(), describe(l, s), Outcome::Waiting))
                .collect(),
        );
        let batch_id =
            batch.with_untracked(|b| b.as_ref().map(|b| b.id.clone()).unwrap_or_default());
        spawn_local(async move {
            let set = |i: usize, o: Outcome| progress.update(|p| p[i].2 = o);
            // The chosen one first: a snapshot must start before anything else changes.
            let mut order: Vec<usize> = (0..list.len()).collect();
            order.sort_by_key(|&i| !matches!(list[i].1, Step::SnapshotAndPin { .. }));
            let mut failed = 0;
            for i in order {
                set(i, Outcome::Running);
                let (label, step) = &list[i];
                match run_step(api, &batch_id, label, step).await {
                    Ok(done) => set(i, Outcome::Done(done)),
                    Err(e) => {
                        failed += 1;
                        set(i, Outcome::Failed(api_message(&e)));
                    }
                }
                on_change.run(());
            }
            version.bump();
            if failed == 0 {
                toasts.push(
                    Tone::Ok,
                    "Continued with the chosen attempt; the others are stopped.",
                );
            } else {
                toasts.push(Tone::Err, format!("{failed} step(s) failed; see the list."));
            }
        });
    };

    view! {
        <section class="sd-fanout__section" aria-labelledby="sd-fo-continue">
            <h2 class="sd-h2" id="sd-fo-continue">"Continue with the best"</h2>
            {move || if running.with(Vec::is_empty) && chosen.with(Option::is_none) {
                view! { <p class="sd-muted">"No child is running yet."</p> }.into_any()
            } else {
                view! {
                    <fieldset class="sd-fieldset">
                        <legend>"Choose"</legend>
                        <div class="sd-row">
                            {running.get().into_iter().map(|l| {
                                let (l2, l3) = (l.clone(), l.clone());
                                view! {
                                    <label class="sd-check">
                                        <input type="radio" name="sd-fo-choice"
                                            prop:checked=move || chosen.with(|c| c.as_deref() == Some(l3.as_str()))
                                            on:change=move |_| chosen.set(Some(l2.clone())) />
                                        {format!("Attempt {l}")}
                                    </label>
                                }
                            }).collect_view()}
                        </div>
                        <div class="sd-row">
                            <label class="sd-check"><input type="radio" name="sd-fo-others" prop:checked=move || others.get() == OthersAction::Shutdown on:change=move |_| others.set(OthersAction::Shutdown) />"Shut the others down"</label>
                            <label class="sd-check"><input type="radio" name="sd-fo-others" prop:checked=move || others.get() == OthersAction::Suspend on:change=move |_| others.set(OthersAction::Suspend) />"Suspend the others"</label>
                        </div>
                    </fieldset>
                    <button type="button" class="sd-btn sd-btn--primary" disabled=move || chosen.with(Option::is_none) || started.get()
                        on:click=move |_| confirming.set(true)>
                        {move || chosen.get().map(|c| format!("Continue with {c}…")).unwrap_or_else(|| "Continue with…".into())}
                    </button>
                }.into_any()
            }}
            {move || (!progress.with(Vec::is_empty)).then(|| view! {
                <ol class="sd-fanout__steps" data-testid="continue-steps">
                    {progress.get().into_iter().map(|(l, what, o)| {
                        let (state, text) = match o {
                            Outcome::Waiting => ("waiting", String::new()),
                            Outcome::Running => ("running", "…".into()),
                            Outcome::Done(d) => ("ok", format!(" — {d}")),
                            Outcome::Failed(e) => ("failed", format!(" — failed: {e}")),
                        };
                        view! { <li data-testid="continue-step" data-label=l data-state=state>{what}{text}</li> }
                    }).collect_view()}
                </ol>
            })}
            <Show when=move || confirming.get()>
                <ConfirmDialog
                    title=format!("Continue with {}?", chosen.get_untracked().unwrap_or_default())
                    confirm_label=Signal::derive(|| "Continue".to_string())
                    danger=true
                    on_confirm=go
                    on_close=move |_| confirming.set(false)>
                    <p>"This is what happens to each child:"</p>
                    <ul data-testid="continue-plan">
                        {steps().into_iter().map(|(l, s)| view! { <li>{describe(&l, &s)}</li> }).collect_view()}
                    </ul>
                </ConfirmDialog>
            </Show>
        </section>
    }
}

/// One step; the text says what was done.
async fn run_step(api: Api, batch_id: &str, label: &str, step: &Step) -> Result<String, ApiError> {
    match step {
        Step::SnapshotAndPin {
            devbox_id,
            commit_message,
        } => {
            let metadata = [
                (BATCH_KEY.to_owned(), batch_id.to_owned()),
                (ATTEMPT_KEY.to_owned(), label.to_owned()),
            ]
            .into_iter()
            .collect();
            let started = api
                .snapshot_async(
                    devbox_id,
                    &SnapshotParams {
                        name: Some(format!("{batch_id}-{label}")),
                        metadata: Some(metadata),
                        commit_message: Some(commit_message.clone()),
                    },
                )
                .await?;
            // Wait for it to complete (the pin is a metadata write on a complete one),
            // polled on snapdeck-core's watch schedule like every other snapshot.
            let watch = SnapshotWatch::new(started.id.clone(), Some(devbox_id.clone()), now_ms());
            let failed = |message: String| ApiError::Api {
                status: 500,
                message,
            };
            let done = loop {
                let step = match watch.next_poll(now_ms()) {
                    WatchStep::PollIn(ms) => {
                        gloo_timers::future::TimeoutFuture::new(
                            u32::try_from(ms.max(0)).unwrap_or(u32::MAX),
                        )
                        .await;
                        match api.snapshot_status(&started.id).await {
                            Ok(view) => watch.observe(&view, now_ms()),
                            Err(e) if e.is_not_found() => WatchStep::Deleted,
                            // A failed poll is not the snapshot failing: keep to the schedule.
                            Err(_) => continue,
                        }
                    }
                    other => other,
                };
                match step {
                    WatchStep::PollIn(_) => continue,
                    WatchStep::Complete(s) => break s.unwrap_or(started.clone()),
                    WatchStep::Failed(message) => return Err(failed(message)),
                    WatchStep::Deleted => {
                        return Err(failed(
                            "the snapshot was deleted before it completed".into(),
                        ));
                    }
                    WatchStep::TimedOut => {
                        return Err(ApiError::Api {
                            status: 504,
                            message: "the snapshot did not finish in time".into(),
                        });
                    }
                }
            };
            crate::components::timeline::set_pinned(api, &done, true).await?;
            Ok(format!(
                "snapshot “{}” taken and pinned",
                done.name.clone().unwrap_or(done.id.clone())
            ))
        }
        Step::Shutdown { devbox_id } => {
            // 409 while one of its snapshots runs: wait for it, a few times.
            let mut tries = 0;
            loop {
                match api.shutdown(devbox_id, false).await {
                    Ok(_) => break Ok("shut down".into()),
                    Err(ApiError::Api { status: 409, .. }) if tries < 30 => {
                        tries += 1;
                        gloo_timers::future::TimeoutFuture::new(2_000).await;
                    }
                    Err(e) => break Err(e),
                }
            }
        }
        Step::Suspend { devbox_id } => api.suspend(devbox_id).await.map(|_| "suspended".into()),
        Step::Leave { .. } => Ok("left as it is".into()),
    }
}

/// Labels of the running attempts (only those can be picked).
fn running_labels(batch: Memo<Option<Batch>>) -> Vec<String> {
    batch.with_untracked(|b| {
        b.iter()
            .flat_map(|b| b.attempts.iter())
            .filter(|a| a.phase() == Phase::Running)
            .map(|a| a.label.clone())
            .collect()
    })
}
