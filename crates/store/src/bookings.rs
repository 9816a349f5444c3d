//! Places booked in workshops for a booklet: no account and no name, only the booklet's
//! reference (and, for the person, the code on its cover). The last place goes to one booking
//! only: a conditional increment of the workshop's `seats_taken`; the others wait in line.

use passnum_core::workshop::{BookingRefusal, check_booking};
use passnum_core::{OrderId, Timestamp, VenueId};
use serde::Serialize;

use crate::rows::{get_i64, get_opt_i64, get_opt_string, get_string};
use crate::workshops::{WORKSHOP_COLUMNS, Workshop, with_services, workshop_row};
use crate::{Store, StoreError};

/// Who books: the person with the code on the cover; the agent of the structure that handed
/// the booklet out, at the counter (it holds the booklet: no code); or the venue of the
/// workshop, on the phone (the person reads the code out).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BookedBy {
    Person,
    Agent(crate::DistributorId),
    Venue(VenueId),
}

impl BookedBy {
    fn as_str(self) -> &'static str {
        match self {
            Self::Person => "person",
            Self::Agent(_) => "agent",
            Self::Venue(_) => "venue",
        }
    }
}

/// How a booklet is named when booking: its reference as printed ("3-12": order 3, booklet 12)
/// and, when the person books alone, the code on its cover.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BookletKey {
    pub order_id: OrderId,
    pub number: i64,
    /// Required for `BookedBy::Person`; the agent and the venue hold the booklet.
    pub code: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Booking {
    pub id: i64,
    pub workshop_id: i64,
    pub booklet_id: i64,
    /// "booked", "waiting", "cancelled" or "attended".
    pub status: String,
    pub booked_by: String,
    pub created_at: Timestamp,
    pub has_contact: bool,
    pub cancel_reason: Option<String>,
    /// The booklet's reference as printed, "3-12".
    pub booklet_ref: String,
}

fn refusal(r: BookingRefusal) -> StoreError {
    match r.kind() {
        passnum_core::RefusalKind::NotFound => StoreError::Invalid {
            code: r.code(),
            message: r.to_string(),
        },
        _ => StoreError::Conflict {
            code: r.code(),
            message: r.to_string(),
        },
    }
}

const BOOKING_COLUMNS: &str = "b.id, b.workshop_id, b.booklet_id, b.status, b.booked_by, b.created_at, \
     b.contact, b.cancel_reason, k.order_id, k.number";

fn booking_row(r: &sqlx::any::AnyRow) -> Result<Booking, StoreError> {
    Ok(Booking {
        id: get_i64(r, "id")?,
        workshop_id: get_i64(r, "workshop_id")?,
        booklet_id: get_i64(r, "booklet_id")?,
        status: get_string(r, "status")?,
        booked_by: get_string(r, "booked_by")?,
        created_at: Timestamp::from_unix_ms(get_i64(r, "created_at")?),
        has_contact: get_opt_string(r, "contact")?.is_some(),
        cancel_reason: get_opt_string(r, "cancel_reason")?,
        booklet_ref: format!("{}-{}", get_i64(r, "order_id")?, get_i64(r, "number")?),
    })
}

impl Store {
    /// Finds the booklet a key names; a wrong code and an unknown booklet get the same answer.
    async fn booklet_of(
        conn: &mut sqlx::AnyConnection,
        key: &BookletKey,
        by: BookedBy,
    ) -> Result<(i64, Option<i64>), StoreError> {
        let row = sqlx::query(
            "SELECT id, booking_code, blocked_at FROM booklets WHERE order_id = $1 AND number = $2",
        )
        .bind(key.order_id.0)
        .bind(key.number)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(refusal(BookingRefusal::WrongCode))?;
        if let BookedBy::Agent(d) = by {
            // Only the structure that handed this booklet out books for it without its code.
            let handed: Option<i64> =
                sqlx::query_scalar("SELECT distributor_id FROM handouts WHERE booklet_id = $1")
                    .bind(get_i64(&row, "id")?)
                    .fetch_optional(&mut *conn)
                    .await?;
            if handed != Some(d.0) {
                return Err(refusal(BookingRefusal::WrongCode));
            }
        } else {
            let stored = get_opt_string(&row, "booking_code")?.unwrap_or_default();
            let typed = key.code.as_deref().unwrap_or("");
            if stored.is_empty()
                || !passnum_core::text::constant_time_eq(stored.as_bytes(), typed.as_bytes())
            {
                return Err(refusal(BookingRefusal::WrongCode));
            }
        }
        Ok((get_i64(&row, "id")?, get_opt_i64(&row, "blocked_at")?))
    }

    /// Books a place in a workshop for a booklet, or a place in line when it is full. Contact
    /// (e-mail or phone) is kept only with consent, for reminders, and erased after the workshop.
    pub async fn book(
        &self,
        workshop_id: i64,
        key: &BookletKey,
        by: BookedBy,
        contact: Option<&str>,
        now: Timestamp,
    ) -> Result<Booking, StoreError> {
        // The last places of a workshop are where bookings collide (serialization failures
        // at SERIALIZABLE): run again, see crate::retry.
        crate::retry::retrying(&self.inner.telemetry, "booking", || {
            self.book_once(workshop_id, key, by, contact, now)
        })
        .await
    }

    async fn book_once(
        &self,
        workshop_id: i64,
        key: &BookletKey,
        by: BookedBy,
        contact: Option<&str>,
        now: Timestamp,
    ) -> Result<Booking, StoreError> {
        let mut tx = self.begin_write().await?;
        let (booklet, blocked) = Self::booklet_of(&mut tx, key, by).await?;
        if blocked.is_some() {
            return Err(refusal(BookingRefusal::BookletNotUsable));
        }
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {WORKSHOP_COLUMNS} FROM workshops w WHERE w.id = $1"
        )))
        .bind(workshop_id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(refusal(BookingRefusal::UnknownWorkshop))?;
        let workshop = workshop_row(&row)?;
        if matches!(by, BookedBy::Venue(v) if v != workshop.venue_id) {
            return Err(refusal(BookingRefusal::UnknownWorkshop));
        }
        // A venue no longer qualified publishes nothing: its workshops take no booking.
        let venue = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {} FROM venues WHERE id = $1",
            crate::venues::COLUMNS
        )))
        .bind(workshop.venue_id.0)
        .fetch_one(&mut *tx)
        .await?;
        if !crate::venues::venue(&venue)?.view()?.is_qualified_at(now) {
            return Err(refusal(BookingRefusal::UnknownWorkshop));
        }
        let already: Option<i64> = sqlx::query_scalar(
            "SELECT id FROM bookings WHERE workshop_id = $1 AND booklet_id = $2 AND status <> 'cancelled'",
        )
        .bind(workshop_id)
        .bind(booklet)
        .fetch_optional(&mut *tx)
        .await?;
        let unused: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM cheques WHERE booklet_id = $1 AND state = 'issued'",
        )
        .bind(booklet)
        .fetch_one(&mut *tx)
        .await?;
        // Places held in workshops still to come: each will take one cheque.
        let active: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM bookings b JOIN workshops w ON w.id = b.workshop_id \
             WHERE b.booklet_id = $1 AND b.status IN ('booked', 'waiting') AND w.starts_at + w.duration_min * 60000 > $2",
        )
        .bind(booklet)
        .bind(now.unix_ms())
        .fetch_one(&mut *tx)
        .await?;
        check_booking(&workshop.view(), already.is_some(), unused, active, now).map_err(refusal)?;
        let seated = sqlx::query(
            "UPDATE workshops SET seats_taken = seats_taken + 1 WHERE id = $1 AND seats_taken < capacity AND cancelled_at IS NULL",
        )
        .bind(workshop_id)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        let contact = contact.map(str::trim).filter(|c| !c.is_empty());
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO bookings (workshop_id, booklet_id, status, booked_by, created_at, updated_at, contact, consent_at) \
             VALUES ($1, $2, $3, $4, $5, $5, $6, $7) RETURNING id",
        )
        .bind(workshop_id)
        .bind(booklet)
        .bind(if seated { "booked" } else { "waiting" })
        .bind(by.as_str())
        .bind(now.unix_ms())
        .bind(contact)
        .bind(contact.map(|_| now.unix_ms()))
        .fetch_one(&mut *tx)
        .await
        .map_err(StoreError::from)
        .map_err(|e| {
            if e.is_unique_violation() {
                refusal(BookingRefusal::AlreadyBooked)
            } else {
                e
            }
        })?;
        queue_booking_notice(&mut tx, id, false, now).await?;
        tx.commit().await?;
        self.telemetry().with(|t| t.booking());
        self.booking(id).await
    }

    pub async fn booking(&self, id: i64) -> Result<Booking, StoreError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {BOOKING_COLUMNS} FROM bookings b JOIN booklets k ON k.id = b.booklet_id WHERE b.id = $1"
        )))
        .bind(id)
        .fetch_optional(self.pool())
        .await?
        .ok_or(StoreError::NotFound)?;
        booking_row(&row)
    }

    /// Cancels a booking: by the person (with the booklet's key) or by the venue of its
    /// workshop. A place freed goes to the first in line, if any.
    pub async fn cancel_booking(
        &self,
        id: i64,
        by: CancelledBy<'_>,
        now: Timestamp,
    ) -> Result<Booking, StoreError> {
        let mut tx = self.begin_write().await?;
        let row = sqlx::query(
            "SELECT b.workshop_id, b.booklet_id, b.status, w.venue_id FROM bookings b \
             JOIN workshops w ON w.id = b.workshop_id WHERE b.id = $1",
        )
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(refusal(BookingRefusal::UnknownBooking))?;
        let workshop = get_i64(&row, "workshop_id")?;
        let allowed = match by {
            CancelledBy::Venue(v) => get_i64(&row, "venue_id")? == v.0,
            CancelledBy::Person(key) => {
                Self::booklet_of(&mut tx, key, BookedBy::Person).await?.0
                    == get_i64(&row, "booklet_id")?
            }
        };
        if !allowed {
            return Err(refusal(BookingRefusal::UnknownBooking));
        }
        let was = get_string(&row, "status")?;
        let reason = match by {
            CancelledBy::Venue(_) => "Annulée par le lieu.",
            CancelledBy::Person(_) => "Annulée par la personne.",
        };
        // Told before the contact is erased with the cancellation.
        queue_booking_notice(&mut tx, id, true, now).await?;
        let n = sqlx::query(
            "UPDATE bookings SET status = 'cancelled', cancel_reason = $1, updated_at = $2, contact = NULL \
             WHERE id = $3 AND status = $4 AND status IN ('booked', 'waiting')",
        )
        .bind(reason)
        .bind(now.unix_ms())
        .bind(id)
        .bind(was.as_str())
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if n == 0 {
            return Err(refusal(BookingRefusal::UnknownBooking));
        }
        if was == "booked" {
            // The freed place goes to the first in line; without one, it is free again.
            let next: Option<i64> = sqlx::query_scalar(
                "SELECT id FROM bookings WHERE workshop_id = $1 AND status = 'waiting' ORDER BY id LIMIT 1",
            )
            .bind(workshop)
            .fetch_optional(&mut *tx)
            .await?;
            match next {
                Some(next) => {
                    sqlx::query(
                        "UPDATE bookings SET status = 'booked', updated_at = $1 WHERE id = $2",
                    )
                    .bind(now.unix_ms())
                    .bind(next)
                    .execute(&mut *tx)
                    .await?;
                    queue_booking_notice(&mut tx, next, false, now).await?;
                }
                None => {
                    sqlx::query("UPDATE workshops SET seats_taken = seats_taken - 1 WHERE id = $1 AND seats_taken > 0")
                        .bind(workshop)
                        .execute(&mut *tx)
                        .await?;
                }
            }
        }
        tx.commit().await?;
        self.booking(id).await
    }

    /// The bookings of a booklet with their workshops, newest workshop first (the person's
    /// page, with the booklet's key).
    pub async fn booklet_bookings(
        &self,
        key: &BookletKey,
    ) -> Result<Vec<(Booking, Workshop)>, StoreError> {
        let mut conn = self.pool().acquire().await?;
        let (booklet, _) = Self::booklet_of(&mut conn, key, BookedBy::Person).await?;
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {BOOKING_COLUMNS} FROM bookings b JOIN booklets k ON k.id = b.booklet_id \
             WHERE b.booklet_id = $1 ORDER BY b.id DESC LIMIT 100"
        )))
        .bind(booklet)
        .fetch_all(&mut *conn)
        .await?;
        let bookings = rows
            .iter()
            .map(booking_row)
            .collect::<Result<Vec<_>, _>>()?;
        if bookings.is_empty() {
            return Ok(vec![]);
        }
        // Their workshops in one statement (and their services in one more), not one each.
        let mut ids: Vec<i64> = bookings.iter().map(|b| b.workshop_id).collect();
        ids.sort_unstable();
        ids.dedup();
        let mut q = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {WORKSHOP_COLUMNS} FROM workshops w WHERE w.id IN ({})",
            crate::rows::placeholders(self.engine(), 0, ids.len())
        )));
        for id in &ids {
            q = q.bind(*id);
        }
        let workshops = q
            .fetch_all(&mut *conn)
            .await?
            .iter()
            .map(workshop_row)
            .collect::<Result<Vec<_>, _>>()?;
        let by_id: std::collections::HashMap<i64, Workshop> =
            with_services(&mut conn, self.engine(), workshops)
                .await?
                .into_iter()
                .map(|w| (w.id, w))
                .collect();
        let mut out = Vec::with_capacity(bookings.len());
        for b in bookings {
            let w = by_id
                .get(&b.workshop_id)
                .cloned()
                .ok_or_else(|| StoreError::corrupt("réservation sans atelier"))?;
            out.push((b, w));
        }
        Ok(out)
    }

    /// The bookings of one of the venue's workshops, in line order (no name: the booklet's
    /// reference only).
    pub async fn workshop_bookings(
        &self,
        venue: VenueId,
        workshop: i64,
    ) -> Result<Vec<Booking>, StoreError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {BOOKING_COLUMNS} FROM bookings b JOIN booklets k ON k.id = b.booklet_id \
             JOIN workshops w ON w.id = b.workshop_id WHERE b.workshop_id = $1 AND w.venue_id = $2 ORDER BY b.id"
        )))
        .bind(workshop)
        .bind(venue.0)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(booking_row).collect()
    }

    /// Erases the contacts kept for reminders once the workshop is over (`passnum jobs run`).
    pub async fn erase_past_booking_contacts(&self, now: Timestamp) -> Result<u64, StoreError> {
        let mut tx = self.begin_write().await?;
        let n = sqlx::query(
            "UPDATE bookings SET contact = NULL, consent_at = NULL WHERE contact IS NOT NULL AND workshop_id IN \
             (SELECT id FROM workshops WHERE starts_at + duration_min * 60000 <= $1)",
        )
        .bind(now.unix_ms())
        .execute(&mut *tx)
        .await?
        .rows_affected();
        tx.commit().await?;
        Ok(n)
    }
}

/// Who cancels a booking.
#[derive(Clone, Copy, Debug)]
pub enum CancelledBy<'a> {
    Person(&'a BookletKey),
    Venue(VenueId),
}

impl Store {
    /// The booking code printed on a booklet's cover (the agent reads it out after the handout,
    /// the orientation slip prints it).
    pub async fn booking_code(&self, order: OrderId, number: i64) -> Result<String, StoreError> {
        let code: Option<Option<String>> = sqlx::query_scalar(
            "SELECT booking_code FROM booklets WHERE order_id = $1 AND number = $2",
        )
        .bind(order.0)
        .bind(number)
        .fetch_optional(self.pool())
        .await?;
        code.flatten().ok_or(StoreError::NotFound)
    }
}

/// What became of a handed-out booklet, as its structure may see it (never who the person is).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct HandoutProgress {
    /// A place booked (or in line, or used) in a workshop.
    pub booked: bool,
    /// A cheque used, in a workshop or not.
    pub used: bool,
}

impl Store {
    /// For each of the structure's handouts given, whether its booklet has a booking and a
    /// cheque used. Another structure's handouts are left out.
    pub async fn handout_progress(
        &self,
        distributor: crate::DistributorId,
        handouts: &[i64],
    ) -> Result<std::collections::HashMap<i64, HandoutProgress>, StoreError> {
        if handouts.is_empty() {
            return Ok(Default::default());
        }
        let sql = format!(
            "SELECT h.id, \
             CASE WHEN EXISTS (SELECT 1 FROM bookings b WHERE b.booklet_id = h.booklet_id \
               AND b.status <> 'cancelled') THEN 1 ELSE 0 END AS booked, \
             CASE WHEN EXISTS (SELECT 1 FROM cheques c JOIN redemptions r ON r.cheque_id = c.id \
               WHERE c.booklet_id = h.booklet_id AND r.rolled_back_at IS NULL) THEN 1 ELSE 0 END AS used \
             FROM handouts h WHERE h.distributor_id = {} AND h.id IN ({})",
            crate::rows::placeholders(self.engine(), 0, 1),
            crate::rows::placeholders(self.engine(), 1, handouts.len())
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(distributor.0);
        for h in handouts {
            q = q.bind(*h);
        }
        q.fetch_all(self.pool())
            .await?
            .iter()
            .map(|r| {
                Ok((
                    get_i64(r, "id")?,
                    HandoutProgress {
                        booked: get_i64(r, "booked")? == 1,
                        used: get_i64(r, "used")? == 1,
                    },
                ))
            })
            .collect()
    }
}

/// Tells the person who booked, when they left an e-mail address and consented: the booking
/// (or the place in line, or the place given from the line), or its cancellation. In the
/// caller's transaction; once per booking and state.
pub(crate) async fn queue_booking_notice(
    tx: &mut sqlx::AnyConnection,
    booking: i64,
    cancelled: bool,
    now: Timestamp,
) -> Result<(), StoreError> {
    let row = sqlx::query(
        "SELECT b.status, b.contact, w.title, w.starts_at, v.name FROM bookings b \
         JOIN workshops w ON w.id = b.workshop_id JOIN venues v ON v.id = w.venue_id \
         WHERE b.id = $1 AND b.consent_at IS NOT NULL",
    )
    .bind(booking)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(row) = row else { return Ok(()) };
    let Some(contact) = crate::rows::get_opt_string(&row, "contact")? else {
        return Ok(());
    };
    if !passnum_core::notice::looks_like_email(&contact) {
        return Ok(());
    }
    let (title, venue_name) = (get_string(&row, "title")?, get_string(&row, "name")?);
    let starts_at = Timestamp::from_unix_ms(get_i64(&row, "starts_at")?);
    let status = get_string(&row, "status")?;
    let (key, notice) = if cancelled {
        (
            format!("booking:{booking}:cancelled"),
            passnum_core::notice::Notice::BookingCancelled {
                title,
                venue_name,
                starts_at,
            },
        )
    } else {
        (
            format!("booking:{booking}:{status}"),
            passnum_core::notice::Notice::Booked {
                title,
                venue_name,
                starts_at,
                waiting: status == "waiting",
            },
        )
    };
    crate::outbox::queue_mail(tx, now, &key, contact.trim(), &notice).await
}
