//! The status page at `/`: one table row per recipe, worst first (failing, stale, behind,
//! current, unpublished; then by id), plain HTML with inline CSS, readable without JavaScript
//! and in a text browser. Every value from the catalogue is escaped.

use crate::status::{RecipeStatus, State};
use std::fmt::Write;
use time::OffsetDateTime;

/// Renders the page for `rows`, generated at `now`.
pub fn render(rows: &[RecipeStatus], now: OffsetDateTime) -> String {
    let mut html = String::with_capacity(4096 + rows.len() * 1024);
    html.push_str(concat!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n",
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n",
        "<title>repack status</title>\n<style>\n",
        "body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222}\n",
        "table{border-collapse:collapse;width:100%}\n",
        "th,td{border-bottom:1px solid #ddd;padding:.4em .6em;text-align:left;vertical-align:top}\n",
        "th{background:#f4f4f4}\n",
        ".state{font-weight:600;padding:.1em .5em;border-radius:3px;white-space:nowrap}\n",
        ".current{background:#d9f2d9}.behind{background:#fff1c2}.unpublished{background:#e8e8e8}\n",
        ".failing{background:#f9d0d0}.stale{background:#f2dcc2}\n",
        ".why{color:#8a1f1f;font-size:90%}.files a{margin-right:.6em}\n",
        "small{color:#666}\n</style>\n</head>\n<body>\n<h1>repack status</h1>\n",
    ));
    let failing = rows
        .iter()
        .filter(|row| row.state == State::Failing)
        .count();
    let _ = writeln!(
        html,
        "<p>{} recipes, {} failing. Generated {}. \
         <a href=\"/menu.ipxe\">menu.ipxe</a> · <a href=\"/api/v1/status\">JSON</a> · \
         <a href=\"/metrics\">metrics</a></p>",
        rows.len(),
        failing,
        when(now)
    );
    html.push_str(concat!(
        "<table>\n<thead><tr><th>Recipe</th><th>State</th><th>Upstream</th>",
        "<th>Published</th><th>Live since</th><th>Download</th><th>RAM</th>",
        "<th>Files</th></tr></thead>\n<tbody>\n",
    ));
    let mut ordered: Vec<&RecipeStatus> = rows.iter().collect();
    ordered.sort_by_key(|row| (rank(row.state), &row.recipe));
    for row in ordered {
        write_row(&mut html, row);
    }
    html.push_str("</tbody>\n</table>\n</body>\n</html>\n");
    html
}

fn write_row(html: &mut String, row: &RecipeStatus) {
    let _ = write!(
        html,
        "<tr id=\"recipe-{id}\"><td><strong>{name}</strong><br><small>{id}</small></td>",
        id = escape(&row.recipe),
        name = escape(&row.name)
    );
    let state = row.state.as_str();
    let _ = write!(html, "<td><span class=\"state {state}\">{state}</span>");
    if let Some(check) = &row.check {
        if row.state == State::Failing
            && let Some(error) = &check.last_error
        {
            let since = check.failing_since.unwrap_or(error.at);
            let _ = write!(
                html,
                "<div class=\"why\">since {} ({} in a row): <code>{}</code> {}</div>",
                when(since),
                check.consecutive_failures,
                escape(&error.kind),
                escape(&error.message)
            );
        } else if row.state == State::Stale {
            let last = check
                .last_success_at
                .map(when)
                .unwrap_or_else(|| "never".to_owned());
            let _ = write!(html, "<div class=\"why\">last good check {last}</div>");
        }
    }
    html.push_str("</td>");
    match &row.upstream {
        Some(upstream) => {
            // Only web links: a feed could name any scheme.
            let url = &upstream.iso_url;
            if url.starts_with("https://") || url.starts_with("http://") {
                let _ = write!(
                    html,
                    "<td><a href=\"{}\">{}</a>",
                    escape(url),
                    escape(&upstream.version)
                );
            } else {
                let _ = write!(html, "<td>{}", escape(&upstream.version));
            }
            if let Some(at) = upstream.published_at {
                let _ = write!(html, "<br><small>released {}</small>", when(at));
            }
            html.push_str("</td>");
        }
        None => html.push_str("<td>–</td>"),
    }
    if row.published.is_empty() {
        html.push_str("<td>nothing published</td><td>–</td><td>–</td><td>–</td><td>–</td>");
    } else {
        let cell = |value: &dyn Fn(&crate::status::Published) -> String| {
            row.published
                .iter()
                .map(value)
                .collect::<Vec<_>>()
                .join("<br>")
        };
        let _ = write!(
            html,
            "<td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"files\">{}</td>",
            cell(&|build| format!(
                "{} <small>{} · {}</small>",
                escape(&build.version),
                escape(&build.arch),
                escape(&build.tag)
            )),
            cell(&|build| when(build.live_since)),
            cell(&|build| size(build.download_bytes)),
            cell(&|build| format!("{} MiB", build.ram_mib)),
            cell(&|build| build
                .files
                .iter()
                .map(|file| format!(
                    "<a href=\"{}\" title=\"{}\">{}</a>",
                    escape(&file.url),
                    size(file.size),
                    escape(&file.name)
                ))
                .collect::<Vec<_>>()
                .join(" ")),
        );
    }
    html.push_str("</tr>\n");
}

/// Where a state sorts on the page: what needs an operator first.
fn rank(state: State) -> u8 {
    match state {
        State::Failing => 0,
        State::Stale => 1,
        State::Behind => 2,
        State::Current => 3,
        State::Unpublished => 4,
    }
}

/// `2026-12-03 07:46 UTC`.
fn when(at: OffsetDateTime) -> String {
    let at = at.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02} UTC",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute()
    )
}

/// `3.1 GB` (decimal units, as download sizes are usually quoted).
pub fn size(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "kB", "MB", "GB", "TB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1000.0 && unit + 1 < UNITS.len() {
        value /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// Escapes text for HTML content and double-quoted attributes.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_in_values_is_escaped() {
        assert_eq!(
            escape("<script>alert('x')</script> & \"q\""),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;"
        );
    }

    #[test]
    fn sizes_use_decimal_units() {
        assert_eq!(size(999), "999 B");
        assert_eq!(size(1_000), "1.0 kB");
        assert_eq!(size(4_880_000_000), "4.9 GB");
    }
}
