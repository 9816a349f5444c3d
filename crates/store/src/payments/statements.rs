//! Venue statements of a run, read as one aggregated text row per venue.

use super::*;

/// One statement line as stored: the caller adds names and formats dates.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawStatementLine {
    pub redeemed_at: Timestamp,
    pub cheque_code: String,
    pub service_code: String,
    pub order_id: i64,
    pub amount_cents: i64,
    pub fee_cents: i64,
}

impl Store {
    /// The statements of the venues `from..=to` (by id) of a run, each in redemption order.
    ///
    /// Each venue's lines come back as one aggregated text row: reading a million statement
    /// lines one row at a time costs a thread hand-off per row in sqlx's SQLite driver, which
    /// made exporting a large run three times slower. Memory is bounded by the venues asked for.
    pub async fn statement_blocks(
        &self,
        run: i64,
        from: VenueId,
        to: VenueId,
    ) -> Result<Vec<(VenueId, Vec<RawStatementLine>)>, StoreError> {
        let line = "CAST(r.redeemed_at AS TEXT) || ';' || c.code || ';' || r.service_code || ';' || \
                    CAST(c.order_id AS TEXT) || ';' || CAST(i.amount_cents AS TEXT) || ';' || CAST(i.fee_cents AS TEXT)";
        let filter = "FROM payment_run_items i JOIN redemptions r ON r.id = i.redemption_id JOIN cheques c ON c.id = i.cheque_id \
                      WHERE i.run_id = $1 AND i.cancelled = 0 AND i.venue_id BETWEEN $2 AND $3";
        let sql = match self.engine() {
            crate::Engine::Sqlite => format!(
                "SELECT venue_id, group_concat(line, char(10)) AS body FROM \
                 (SELECT i.venue_id AS venue_id, {line} AS line {filter} ORDER BY i.venue_id, i.redemption_id) \
                 GROUP BY venue_id ORDER BY venue_id"
            ),
            crate::Engine::Postgres => format!(
                "SELECT i.venue_id, string_agg({line}, E'\\n' ORDER BY i.redemption_id) AS body {filter} \
                 GROUP BY i.venue_id ORDER BY i.venue_id"
            ),
        };
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(run)
            .bind(from.0)
            .bind(to.0)
            .fetch_all(self.pool())
            .await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let venue = VenueId(get_i64(r, "venue_id")?);
            let body = get_string(r, "body")?;
            let mut lines = Vec::new();
            for l in body.split('\n') {
                let f: Vec<&str> = l.split(';').collect();
                let bad = || StoreError::corrupt(format!("ligne de relevé « {l} »"));
                if f.len() != 6 {
                    return Err(bad());
                }
                let num = |s: &str| s.parse::<i64>().map_err(|_| bad());
                lines.push(RawStatementLine {
                    redeemed_at: Timestamp::from_unix_ms(num(f[0])?),
                    cheque_code: f[1].to_string(),
                    service_code: f[2].to_string(),
                    order_id: num(f[3])?,
                    amount_cents: num(f[4])?,
                    fee_cents: num(f[5])?,
                });
            }
            out.push((venue, lines));
        }
        Ok(out)
    }
}
