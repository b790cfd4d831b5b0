//! Blueprints: builds that finish by themselves, their build logs, the list and delete
//! (refused while snapshots derive from one).

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};
use snapdeck_api::{Blueprint, BlueprintList, BlueprintStatus, CreateBlueprint};

use super::list::{Listed, OrderKey, Paging, list_page};
use super::{Step, Store};
use crate::db::{Db, Table};
use crate::error::{Error, Result};

/// What `GET /v1/blueprints` asks for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BlueprintQuery {
    /// Only blueprints with exactly this name.
    pub name: Option<String>,
    /// Only blueprints in this status, by its wire name (an unknown one matches none).
    pub status: Option<String>,
    pub paging: Paging,
}

/// A blueprint as stored: its wire view plus its remaining build steps.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BlueprintRec {
    pub seq: u64,
    pub view: Blueprint,
    #[serde(default)]
    pub steps: VecDeque<Step<BlueprintStatus>>,
}

impl BlueprintRec {
    pub(super) fn advance(&mut self, now: i64) -> bool {
        let mut changed = false;
        while let Some(step) = self.steps.front().copied().filter(|s| s.due_ms <= now) {
            self.steps.pop_front();
            self.view.status = step.status;
            if matches!(
                step.status,
                BlueprintStatus::BuildComplete | BlueprintStatus::Failed
            ) {
                self.view.build_finish_time_ms = Some(step.due_ms);
            }
            if step.status == BlueprintStatus::Failed {
                self.view.failure_reason = Some("build_failed".into());
            }
            changed = true;
        }
        changed
    }

    pub(super) fn is_listed(&self) -> bool {
        self.view.state != "deleted"
    }
}

impl Listed for BlueprintRec {
    fn order_key(&self) -> OrderKey {
        (self.view.create_time_ms, self.seq)
    }
}

impl Store {
    /// `POST /v1/blueprints`: `queued` → `provisioning` → `building` → `build_complete`.
    /// A setup command that is literally `false` or `exit 1` makes the build fail, so the
    /// failure path can be exercised.
    pub fn create_blueprint(
        &mut self,
        req: CreateBlueprint,
        parameters: serde_json::Value,
        now: i64,
    ) -> Result<Blueprint> {
        if req.name.trim().is_empty() {
            return Err(Error::BadRequest("name must not be empty".into()));
        }
        let fails = req
            .system_setup_commands
            .iter()
            .flatten()
            .any(|c| matches!(c.trim(), "false" | "exit 1"));
        let base_blueprint_id = self.base_blueprint(&req)?;
        let build = self.timings.blueprint_build_ms;
        let last = if fails {
            BlueprintStatus::Failed
        } else {
            BlueprintStatus::BuildComplete
        };
        let steps = [
            (BlueprintStatus::Provisioning, build / 10),
            (BlueprintStatus::Building, build / 4),
            (last, build),
        ]
        .into_iter()
        .map(|(status, after)| Step {
            status,
            due_ms: now + after,
        })
        .collect();
        let id = self.new_id("bpt");
        let rec = BlueprintRec {
            seq: 0,
            view: Blueprint {
                id,
                name: req.name,
                status: BlueprintStatus::Queued,
                state: "created".into(),
                create_time_ms: now,
                build_finish_time_ms: None,
                failure_reason: None,
                base_blueprint_id,
                parameters,
                metadata: req.metadata.unwrap_or_default(),
            },
            steps,
        };
        Ok(self.insert_blueprint(rec)?.view)
    }

    /// The blueprint a new one builds on: `base_blueprint_id` must name a finished
    /// build, `base_blueprint_name` resolves to the latest successful build of that name
    /// (as `blueprint_name` does for a devbox); at most one of the two.
    fn base_blueprint(&self, req: &CreateBlueprint) -> Result<Option<String>> {
        match (&req.base_blueprint_id, &req.base_blueprint_name) {
            (Some(_), Some(_)) => Err(Error::BadRequest(
                "give at most one of base_blueprint_id and base_blueprint_name".into(),
            )),
            (Some(id), None) => {
                let base = self
                    .blueprints
                    .get(id)
                    .filter(|b| b.is_listed())
                    .ok_or_else(|| Error::not_found("Blueprint", id))?;
                if base.view.status != BlueprintStatus::BuildComplete {
                    return Err(Error::BadRequest(format!(
                        "Base blueprint {id} has not finished building"
                    )));
                }
                Ok(Some(id.clone()))
            }
            (None, Some(name)) => self
                .blueprints
                .values()
                .filter(|b| {
                    b.is_listed()
                        && b.view.name == *name
                        && b.view.status == BlueprintStatus::BuildComplete
                })
                .max_by_key(|b| (b.view.create_time_ms, b.seq))
                .map(|b| Some(b.view.id.clone()))
                .ok_or_else(|| {
                    Error::NotFound(format!("No successfully built blueprint named {name:?}"))
                }),
            (None, None) => Ok(None),
        }
    }

    /// `GET /v1/blueprints/{id}`.
    pub fn get_blueprint(&self, id: &str) -> Result<Blueprint> {
        self.blueprints
            .get(id)
            .map(|r| r.view.clone())
            .ok_or_else(|| Error::not_found("Blueprint", id))
    }

    /// `GET /v1/blueprints`: newest first, filtered by `query`.
    pub fn list_blueprints(&self, query: &BlueprintQuery) -> Result<BlueprintList> {
        let name = query.name.as_deref();
        let status = query.status.as_deref();
        let items = self
            .blueprints
            .values()
            .filter(|r| r.is_listed())
            .filter(|r| name.is_none_or(|n| r.view.name == n))
            .filter(|r| status.is_none_or(|s| r.view.status.as_str() == s))
            .collect();
        let page = list_page(&self.blueprints, items, &query.paging, "blueprint")?;
        Ok(BlueprintList {
            blueprints: page.items.into_iter().map(|r| r.view.clone()).collect(),
            has_more: page.has_more,
            total_count: page.total_count,
        })
    }

    /// A blueprint's build log up to `now`: plausible lines of a Docker build of its
    /// parameters (base image, each Dockerfile instruction, each setup command), spread
    /// over the build's steps, ending with success or the failing command.
    pub fn build_logs(&self, id: &str, now: i64) -> Result<Vec<serde_json::Value>> {
        let rec = self
            .blueprints
            .get(id)
            .ok_or_else(|| Error::not_found("Blueprint", id))?;
        let view = &rec.view;
        let start = view.create_time_ms;
        let end = view
            .build_finish_time_ms
            .or(rec.steps.back().map(|s| s.due_ms))
            .unwrap_or(start);
        let params = &view.parameters;
        let mut body = vec![(
            "info",
            format!("Build of blueprint {} ({id}) queued", view.name),
        )];
        let base = params
            .get("base_blueprint_name")
            .or(params.get("base_blueprint_id"))
            .and_then(|v| v.as_str())
            .unwrap_or("runloop/universal-ubuntu-24.04");
        body.push(("info", format!("Provisioning a builder; base image {base}")));
        let dockerfile = params
            .get("dockerfile")
            .and_then(|v| v.as_str())
            .unwrap_or("");
        let instructions: Vec<&str> = dockerfile
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .collect();
        let commands: Vec<&str> = params
            .get("system_setup_commands")
            .and_then(|v| v.as_array())
            .map(|a| a.iter().filter_map(|c| c.as_str()).collect())
            .unwrap_or_default();
        let steps = instructions.len() + commands.len();
        let mut failed = false;
        for (i, line) in instructions.iter().enumerate() {
            body.push(("info", format!("#{} [{}/{steps}] {line}", i + 1, i + 1)));
        }
        for (j, command) in commands.iter().enumerate() {
            let n = instructions.len() + j + 1;
            body.push(("info", format!("#{n} [{n}/{steps}] RUN {command}")));
            if matches!(command.trim(), "false" | "exit 1") {
                body.push(("error", format!("#{n} ERROR: process \"{command}\" did not complete successfully: exit code: 1")));
                failed = true;
                break;
            }
            body.push(("info", format!("#{n} DONE")));
        }
        if failed || view.status == BlueprintStatus::Failed {
            body.push(("error", "Build failed".into()));
        } else {
            body.push(("info", "Exporting the image".into()));
            body.push(("info", "Build complete".into()));
        }
        // Spread the lines evenly from creation to the end of the build; show the ones
        // whose time has come.
        let n = i64::try_from(body.len()).unwrap_or(1).max(1);
        Ok(body
            .into_iter()
            .enumerate()
            .map(|(i, (level, message))| {
                let i = i64::try_from(i).unwrap_or(0);
                let at = if i + 1 == n { end } else { start + (end - start) * i / n };
                (at, level, message)
            })
            .filter(|(at, _, _)| *at <= now)
            .map(|(at, level, message)| {
                serde_json::json!({"level": level, "message": message, "timestamp_ms": at})
            })
            .collect())
    }

    /// `POST /v1/blueprints/{id}/delete`: 400 while snapshots derive from it.
    pub fn delete_blueprint(&mut self, id: &str) -> Result<()> {
        let mut rec = self
            .blueprints
            .get(id)
            .filter(|r| r.is_listed())
            .cloned()
            .ok_or_else(|| Error::not_found("Blueprint", id))?;
        let mut dependents: Vec<_> = self
            .snapshots
            .values()
            .filter(|s| s.is_listed() && s.view.source_blueprint_id.as_deref() == Some(id))
            .map(|s| s.view.id.as_str())
            .collect();
        if !dependents.is_empty() {
            dependents.sort_unstable();
            return Err(Error::BadRequest(format!(
                "Blueprint {id} has dependent snapshots: {}",
                dependents.join(", ")
            )));
        }
        rec.view.state = "deleted".into();
        save_blueprint(&self.db, &rec)?;
        self.blueprints.insert(id.to_owned(), rec);
        Ok(())
    }
}

pub(super) fn save_blueprint(db: &Db, rec: &BlueprintRec) -> Result<()> {
    db.put(
        Table::Blueprints,
        &rec.view.id,
        rec.seq,
        rec.view.status.as_str(),
        rec.view.create_time_ms,
        rec,
    )
}
