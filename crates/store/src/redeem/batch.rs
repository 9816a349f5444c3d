//! One batch of redemptions in one transaction: read and lock the cheques, decide each request
//! in arrival order with core's checks, write the accepted ones with multi-row statements,
//! record the idempotency outcomes, commit.

use std::collections::BTreeMap;

use super::worker::Ctx;
use super::*;
use crate::rows::get_opt_string;

/// A cheque as read at the start of the batch, updated as the batch decides.
struct Slot {
    id: i64,
    booklet_id: i64,
    order_id: OrderId,
    funder_id: FunderId,
    view: ChequeView,
}

enum Pending {
    Done(Result<Answer, StoreError>),
    Decided(Outcome),
    /// Accepted; the redemption id is known once the batch's rows are inserted.
    Accepted {
        cheque_id: i64,
        booklet_id: i64,
        draft: Redemption,
    },
    /// Same idempotency key as an earlier request of this batch.
    Follower,
}

fn cheque_slot(row: &sqlx::any::AnyRow) -> Result<Slot, StoreError> {
    let state = get_string(row, "state")?;
    Ok(Slot {
        id: get_i64(row, "id")?,
        booklet_id: get_i64(row, "booklet_id")?,
        order_id: OrderId(get_i64(row, "order_id")?),
        funder_id: FunderId(get_i64(row, "funder_id")?),
        view: ChequeView {
            state: ChequeState::parse(&state)
                .ok_or_else(|| StoreError::corrupt(format!("état {state}")))?,
            face_value: Money::from_cents(get_i64(row, "face_value_cents")?),
            validity: Validity {
                valid_from: get_date(row, "valid_from")?,
                valid_until: get_date(row, "valid_until")?,
                tolerance_days: get_i64(row, "tolerance_days")?,
            },
            redeemed_at: get_opt_i64(row, "redeemed_at")?.map(Timestamp::from_unix_ms),
        },
    })
}

const CHEQUE_SELECT: &str = "SELECT c.id, c.booklet_id, c.code, c.state, c.face_value_cents, c.order_id, o.funder_id, o.valid_from, \
     o.valid_until, o.tolerance_days, \
     (SELECT r.redeemed_at FROM redemptions r WHERE r.cheque_id = c.id AND r.rolled_back_at IS NULL) AS redeemed_at \
     FROM cheques c JOIN orders o ON o.id = c.order_id";

/// The venues of a batch: what core needs to decide, and each one's catalogue (empty when the
/// venue lists no service, so that it gives none).
struct Venues {
    views: HashMap<VenueId, VenueView>,
    catalogues: HashMap<VenueId, HashSet<String>>,
}

/// What the batch decided for each request, and the idempotency keys it leads.
struct Decisions {
    pending: Vec<Pending>,
    /// (actor, key) → index of the first request of the batch with that key.
    leaders: HashMap<(String, String), usize>,
}

pub(super) async fn run_batch(
    ctx: &Ctx,
    reqs: &[RedeemRequest],
) -> Result<Vec<Result<Answer, StoreError>>, StoreError> {
    let mut tx = begin_write(&ctx.pool, ctx.engine).await?;
    let mut slots = lock_cheques(&mut tx, ctx.engine, reqs).await?;
    let venues = read_venues(&mut tx, ctx.engine, reqs).await?;
    let pairs: Vec<(i64, i64)> = reqs
        .iter()
        .filter_map(|r| Some((r.workshop_id?, slots.get(&r.code.as_compact())?.booklet_id)))
        .collect();
    let mut workshops =
        crate::workshop_scans::read(&mut tx, ctx.engine, &ctx.caches, reqs, &pairs).await?;
    let decisions = decide(&mut tx, ctx, reqs, &mut slots, &venues, &mut workshops).await?;
    let (ids, account_totals) = write_accepted(&mut tx, ctx, reqs, &decisions.pending).await?;
    let (months, booklets) = rollups(&decisions.pending, &workshops);
    let first_uses = crate::usage::add_booklets(&mut tx, ctx.engine, &booklets).await?;
    workshops.write(&mut tx, &ids).await?;
    let results = outcomes(decisions.pending, &ids);
    // Outcomes are stored under their idempotency keys before the commit.
    let mut outcomes = Vec::new();
    for (i, req) in reqs.iter().enumerate() {
        if let (Some(k), Some(Ok(a))) = (&req.idempotency, &results[i])
            && decisions.leaders.get(&(k.actor.clone(), k.key.clone())) == Some(&i)
        {
            let json = serde_json::to_string(&a.outcome).map_err(StoreError::corrupt)?;
            outcomes.push((k, json));
        }
    }
    record_all(&mut tx, ctx.engine, &outcomes).await?;
    // Last, the rows every batch of a programme shares: its funder's and venues' accounts and
    // the month's usage lines. A batch holds their locks from here to its commit only (two
    // statements instead of about ten). Batches of one funder still take turns on its account
    // row, so one writer (the default) is faster than several (BENCHMARKS.md, twenty-first
    // session).
    apply_totals(&mut tx, ctx.engine, account_totals).await?;
    crate::usage::add_months(&mut tx, ctx.engine, &months, &first_uses).await?;
    tx.commit().await?;
    Ok(answers(reqs, &results, &decisions.leaders))
}

/// Step 1: every cheque of the batch, locked, in id order (the same order on every server).
async fn lock_cheques(
    tx: &mut sqlx::AnyConnection,
    engine: Engine,
    reqs: &[RedeemRequest],
) -> Result<HashMap<String, Slot>, StoreError> {
    let lock = if engine == Engine::Postgres {
        " FOR UPDATE OF c"
    } else {
        ""
    };
    let mut codes: Vec<String> = reqs.iter().map(|r| r.code.as_compact()).collect();
    codes.sort();
    codes.dedup();
    let sql = format!(
        "{CHEQUE_SELECT} WHERE c.code IN ({}) ORDER BY c.id{lock}",
        placeholders(engine, 0, codes.len())
    );
    let mut q = sqlx::query::<Any>(sqlx::AssertSqlSafe(sql));
    for c in &codes {
        q = q.bind(c.as_str());
    }
    let mut slots: HashMap<String, Slot> = HashMap::with_capacity(codes.len());
    for row in q.fetch_all(&mut *tx).await? {
        let code = get_string(&row, "code")?;
        slots.insert(code, cheque_slot(&row)?);
    }
    Ok(slots)
}

/// Step 2: the venues that scan, and of their catalogues only the services this batch asks
/// for (a catalogue may list a hundred services; a batch asks for a few).
async fn read_venues(
    tx: &mut sqlx::AnyConnection,
    engine: Engine,
    reqs: &[RedeemRequest],
) -> Result<Venues, StoreError> {
    let mut venue_ids: Vec<i64> = reqs.iter().map(|r| r.venue_id.0).collect();
    venue_ids.sort_unstable();
    venue_ids.dedup();
    let mut asked: Vec<&str> = reqs.iter().map(|r| r.service_code.as_str()).collect();
    asked.sort_unstable();
    asked.dedup();
    // One statement: each venue once per service asked for that it lists (once with none).
    let sql = format!(
        "SELECT {}, s.service_code AS listed FROM venues \
         LEFT JOIN venue_services s ON s.venue_id = venues.id AND s.service_code IN ({}) \
         WHERE venues.id IN ({})",
        crate::venues::COLUMNS,
        placeholders(engine, 0, asked.len()),
        placeholders(engine, asked.len(), venue_ids.len())
    );
    let mut q = sqlx::query::<Any>(sqlx::AssertSqlSafe(sql));
    for code in &asked {
        q = q.bind(*code);
    }
    for v in &venue_ids {
        q = q.bind(*v);
    }
    let mut views: HashMap<VenueId, VenueView> = HashMap::new();
    let mut catalogues: HashMap<VenueId, HashSet<String>> = HashMap::new();
    for row in q.fetch_all(&mut *tx).await? {
        let id = VenueId(get_i64(&row, "id")?);
        if let std::collections::hash_map::Entry::Vacant(e) = views.entry(id) {
            e.insert(venue(&row)?.view()?);
        }
        if let Some(code) = get_opt_string(&row, "listed")? {
            catalogues.entry(id).or_default().insert(code);
        }
    }
    Ok(Venues { views, catalogues })
}

/// Step 3: decides each request in arrival order with core's checks: a cheque accepted earlier in
/// the batch is already "redeemed" for the next request.
async fn decide(
    tx: &mut sqlx::AnyConnection,
    ctx: &Ctx,
    reqs: &[RedeemRequest],
    slots: &mut HashMap<String, Slot>,
    venues: &Venues,
    workshops: &mut crate::workshop_scans::BatchWorkshops,
) -> Result<Decisions, StoreError> {
    let referentiel = ctx.caches.services.lock().clone();
    let no_catalogue = HashSet::new();
    let mut pending: Vec<Pending> = Vec::with_capacity(reqs.len());
    let mut leaders: HashMap<(String, String), usize> = HashMap::new();
    let keys: Vec<(&IdempotencyKey, i64)> = reqs
        .iter()
        .filter_map(|r| Some((r.idempotency.as_ref()?, r.now.unix_ms())))
        .collect();
    let mut claims = claim_all(&mut *tx, ctx.engine, &keys).await?;
    for (i, req) in reqs.iter().enumerate() {
        if let Some(k) = &req.idempotency {
            if leaders.contains_key(&(k.actor.clone(), k.key.clone())) {
                pending.push(Pending::Follower);
                continue;
            }
            let claim = claims
                .remove(&(k.actor.clone(), k.key.clone()))
                .unwrap_or_else(|| Err(StoreError::corrupt("clé d'idempotence non réclamée")));
            match claim {
                Ok(Claim::New) => {
                    leaders.insert((k.actor.clone(), k.key.clone()), i);
                }
                Ok(Claim::Replay(json)) => {
                    let outcome: Outcome =
                        serde_json::from_str(&json).map_err(StoreError::corrupt)?;
                    pending.push(Pending::Done(Ok(Answer {
                        outcome,
                        replayed: true,
                    })));
                    continue;
                }
                Err(StoreError::IdempotencyMismatch) => {
                    pending.push(Pending::Done(Err(StoreError::IdempotencyMismatch)));
                    continue;
                }
                Err(e) => return Err(e),
            }
        }
        let Some(venue) = venues.views.get(&req.venue_id) else {
            pending.push(Pending::Done(Err(StoreError::NotFound)));
            continue;
        };
        let slot = slots.get_mut(&req.code.as_compact());
        let perim = match &slot {
            Some(s) => Some(perimeter(&mut *tx, &ctx.caches, s.order_id).await?),
            None => None,
        };
        let everywhere = Default::default();
        let service = ServiceGiven {
            code: &req.service_code,
            referentiel: &referentiel,
            catalogue: venues
                .catalogues
                .get(&req.venue_id)
                .unwrap_or(&no_catalogue),
        };
        let checked = check_scan(
            slot.as_ref().map(|s| &s.view),
            perim.as_deref().unwrap_or(&everywhere),
            venue,
            &service,
            req.now,
        );
        // The cheque is good: now the workshop's own rules (its seat is taken here).
        let decision: Option<Outcome> = match checked {
            Err(r) => Some(refusal(&r)),
            Ok(()) => {
                let (booklet, cheque) = slot.as_ref().map_or((0, 0), |s| (s.booklet_id, s.id));
                workshops
                    .admit(req, booklet, cheque)
                    .err()
                    .map(|r| refusal(&r))
            }
        };
        pending.push(match decision {
            Some(r) => Pending::Decided(r),
            None => {
                let s =
                    slot.ok_or_else(|| StoreError::corrupt("chèque accepté sans enregistrement"))?;
                s.view.state = cheque::transition(s.view.state, cheque::ChequeEvent::Redeem)
                    .ok_or_else(|| StoreError::corrupt("transition refusée"))?;
                s.view.redeemed_at = Some(req.now);
                Pending::Accepted {
                    cheque_id: s.id,
                    booklet_id: s.booklet_id,
                    draft: Redemption {
                        id: RedemptionId(0),
                        cheque_code: req.code.grouped(),
                        venue_id: req.venue_id,
                        funder_id: s.funder_id,
                        order_id: s.order_id,
                        service_code: req.service_code.clone(),
                        amount_cents: s.view.face_value.cents(),
                        redeemed_at: req.now,
                        rolled_back_at: None,
                        workshop_id: req.workshop_id,
                    },
                }
            }
        });
    }
    Ok(Decisions { pending, leaders })
}

/// Step 4: writes the accepted redemptions with a handful of statements: the rows, the cheques'
/// new state, the ledger transfers. Returns cheque id → redemption id, and the account totals
/// to apply before the commit.
async fn write_accepted(
    tx: &mut sqlx::AnyConnection,
    ctx: &Ctx,
    reqs: &[RedeemRequest],
    pending: &[Pending],
) -> Result<(HashMap<i64, i64>, AccountTotals), StoreError> {
    let accepted: Vec<(i64, i64, &Redemption)> = pending
        .iter()
        .filter_map(|p| match p {
            Pending::Accepted {
                cheque_id,
                booklet_id,
                draft,
            } => Some((*cheque_id, *booklet_id, draft)),
            _ => None,
        })
        .collect();
    let mut ids: HashMap<i64, i64> = HashMap::with_capacity(accepted.len());
    if accepted.is_empty() {
        return Ok((ids, AccountTotals::new()));
    }
    // Parameters per redemption row, the cheque first.
    const WIDTH: usize = 7;
    let insert = format!(
        "INSERT INTO redemptions (cheque_id, venue_id, service_code, amount_cents, redeemed_at, workshop_id, booklet_id) VALUES {} RETURNING id, cheque_id",
        value_rows(ctx.engine, accepted.len(), WIDTH)
    );
    // On PostgreSQL the cheques' new state is written by the same statement (a data-modifying
    // `WITH`, on the cheques `lock_cheques` locked; each row's first parameter is its cheque):
    // one round trip fewer for the batch, which the one writer makes after the other
    // (BENCHMARKS.md, twenty-first session). SQLite, in process, keeps two statements.
    let sql = match ctx.engine {
        Engine::Postgres => {
            let cheques = (0..accepted.len())
                .map(|k| format!("${}", WIDTH * k + 1))
                .collect::<Vec<_>>()
                .join(", ");
            format!(
                "WITH c AS (UPDATE cheques SET state = 'redeemed' WHERE state = 'issued' AND id IN ({cheques}) RETURNING id) \
                 {insert}, (SELECT COUNT(*) FROM c) AS updated"
            )
        }
        Engine::Sqlite => insert,
    };
    let mut q = sqlx::query::<Any>(sqlx::AssertSqlSafe(sql));
    for (cheque_id, booklet_id, d) in &accepted {
        // The booklet is named only with a workshop: that is what its unique index needs.
        q = q
            .bind(*cheque_id)
            .bind(d.venue_id.0)
            .bind(d.service_code.as_str())
            .bind(d.amount_cents)
            .bind(d.redeemed_at.unix_ms())
            .bind(d.workshop_id)
            .bind(d.workshop_id.map(|_| *booklet_id));
    }
    let rows = q.fetch_all(&mut *tx).await?;
    for row in &rows {
        ids.insert(get_i64(row, "cheque_id")?, get_i64(row, "id")?);
    }
    let updated = match ctx.engine {
        Engine::Postgres => rows.first().map_or(Ok(0), |r| get_i64(r, "updated"))? as u64,
        Engine::Sqlite => {
            let sql = format!(
                "UPDATE cheques SET state = 'redeemed' WHERE state = 'issued' AND id IN ({})",
                placeholders(ctx.engine, 0, accepted.len())
            );
            let mut q = sqlx::query::<Any>(sqlx::AssertSqlSafe(sql));
            for (cheque_id, _, _) in &accepted {
                q = q.bind(*cheque_id);
            }
            q.execute(&mut *tx).await?.rows_affected()
        }
    };
    if updated != accepted.len() as u64 || ids.len() != accepted.len() {
        return Err(StoreError::corrupt(
            "un chèque a changé d'état pendant l'encaissement",
        ));
    }
    let transfers: Vec<NewTransfer> = accepted
        .iter()
        .map(|(cheque_id, _, d)| NewTransfer {
            posting: Posting::redemption(
                d.funder_id,
                d.venue_id,
                Money::from_cents(d.amount_cents),
            ),
            order_id: Some(d.order_id.0),
            redemption_id: ids.get(cheque_id).copied(),
            reverses_id: None,
            payment_run_id: None,
        })
        .collect();
    let latest = reqs
        .iter()
        .map(|r| r.now)
        .max()
        .unwrap_or(Timestamp::from_unix_ms(0));
    let totals = insert_transfers(&mut *tx, &ctx.caches, ctx.engine, &transfers, latest).await?;
    Ok((ids, totals))
}

/// What the accepted redemptions add to the figures' rollups.
fn rollups(
    pending: &[Pending],
    workshops: &crate::workshop_scans::BatchWorkshops,
) -> (
    crate::usage::MonthLines,
    BTreeMap<i64, crate::usage::BookletUse>,
) {
    let mut months = crate::usage::MonthLines::new();
    let mut booklets: BTreeMap<i64, crate::usage::BookletUse> = BTreeMap::new();
    for p in pending {
        let Pending::Accepted {
            booklet_id, draft, ..
        } = p
        else {
            continue;
        };
        let key = crate::usage::UsageKey {
            order_id: draft.order_id.0,
            venue_id: draft.venue_id.0,
            service_code: draft.service_code.clone(),
            format: workshops.format_of(draft.workshop_id),
            month: passnum_core::paris::month_key(draft.redeemed_at),
        };
        let line = months.entry(key.clone()).or_default();
        line.0 += 1;
        line.1 += draft.amount_cents;
        let at = draft.redeemed_at.unix_ms();
        let b = booklets
            .entry(*booklet_id)
            .or_insert_with(|| crate::usage::BookletUse {
                cheques: 0,
                cents: 0,
                first_at: at,
                first_line: key.clone(),
            });
        b.cheques += 1;
        b.cents += draft.amount_cents;
        if at < b.first_at {
            b.first_at = at;
            b.first_line = key;
        }
    }
    (months, booklets)
}

/// Step 5: each request's outcome; `None` for a follower of an earlier request with its key.
fn outcomes(
    pending: Vec<Pending>,
    ids: &HashMap<i64, i64>,
) -> Vec<Option<Result<Answer, StoreError>>> {
    pending
        .into_iter()
        .map(|p| match p {
            Pending::Done(r) => Some(r),
            Pending::Decided(outcome) => Some(Ok(Answer {
                outcome,
                replayed: false,
            })),
            Pending::Accepted {
                cheque_id,
                mut draft,
                ..
            } => {
                draft.id = RedemptionId(ids[&cheque_id]);
                Some(Ok(Answer {
                    outcome: Outcome::Accepted(draft),
                    replayed: false,
                }))
            }
            Pending::Follower => None,
        })
        .collect()
}

/// Step 6: the answers, once committed: a follower gets its leader's answer if the body matches.
fn answers(
    reqs: &[RedeemRequest],
    results: &[Option<Result<Answer, StoreError>>],
    leaders: &HashMap<(String, String), usize>,
) -> Vec<Result<Answer, StoreError>> {
    let mut out = Vec::with_capacity(reqs.len());
    for (i, req) in reqs.iter().enumerate() {
        let r = match &results[i] {
            Some(Ok(a)) => Ok(a.clone()),
            Some(Err(StoreError::IdempotencyMismatch)) => Err(StoreError::IdempotencyMismatch),
            Some(Err(StoreError::NotFound)) => Err(StoreError::NotFound),
            Some(Err(e)) => Err(StoreError::Corrupt(e.to_string())),
            None => {
                let k = req.idempotency.as_ref().expect("followers have keys");
                let leader = leaders[&(k.actor.clone(), k.key.clone())];
                let lk = reqs[leader]
                    .idempotency
                    .as_ref()
                    .expect("leaders have keys");
                match &results[leader] {
                    Some(Ok(a)) if lk.request_hash == k.request_hash => Ok(Answer {
                        outcome: a.outcome.clone(),
                        replayed: true,
                    }),
                    Some(Ok(_)) => Err(StoreError::IdempotencyMismatch),
                    _ => Err(StoreError::NotFound),
                }
            }
        };
        out.push(r);
    }
    out
}
