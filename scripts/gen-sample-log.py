#!/usr/bin/env python3
"""Generate Honeybot's bundled sample access log (crates/honeybot/data/sample-access.log).

The log is synthetic and deterministic (fixed seed): one week of a small personal site in
the Honeybot extended nginx format, with browsers, AI crawlers, search engines, scanners,
the JavaScript bot trap (trap.js + a beacon with a unique nonce), AI assistants and crawlers
asking for Markdown (`Accept: text/markdown`, `.md` URLs, `llms.txt`), robots.txt readers,
exploit probes (one scanner with a terminal-escape user agent), IPv6 clients and a few
lines nginx really writes that are not well-formed requests. Addresses come from the documentation ranges
(RFC 5737 / RFC 3849), so the sample holds no one's personal data.

    python3 scripts/gen-sample-log.py > crates/honeybot/data/sample-access.log
"""
import random
from datetime import datetime, timedelta, timezone

rng = random.Random(20261129)
TZ = timezone(timedelta(hours=1))
START = datetime(2026, 11, 16, 0, 0, 0, tzinfo=TZ)
DAYS = 7

POSTS = [
    "/futureproof/nixos-flakes-for-one-machine/",
    "/futureproof/local-llm-commit-messages/",
    "/futureproof/reading-my-own-access-logs/",
    "/futureproof/which-bots-run-javascript/",
    "/futureproof/piper-tts-on-a-cheap-box/",
    "/futureproof/sqlite-is-enough/",
    "/futureproof/vim-forever/",
    "/futureproof/the-404-janitor/",
]
PAGES = ["/", "/about/", "/feed.xml", "/futureproof/"] + POSTS
ASSETS = ["/assets/main.css", "/assets/logo.svg", "/favicon.ico"]
PROBES = [
    "/wp-login.php", "/.env", "/xmlrpc.php", "/phpmyadmin/index.php",
    "/.git/config", "/cgi-bin/luci/;stok=/locale", "/wp-content/plugins/hello.php",
]
DEAD = ["/futureproof/nixos-flake-for-one-machine/", "/blog/", "/old/rss.xml",
        "/futureproof/sqlite-is-enough", "/futureproof/vim/"]

BROWSERS = [
    "Mozilla/5.0 (X11; Linux x86_64; rv:145.0) Gecko/20100101 Firefox/145.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
]
AI = [
    "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.2; +https://openai.com/gptbot)",
    "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; ClaudeBot/1.0; +claudebot@anthropic.com)",
    "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; PerplexityBot/1.0; +https://perplexity.ai/perplexitybot)",
    "Mozilla/5.0 (compatible; Bytespider; spider-feedback@bytedance.com)",
    "CCBot/2.0 (https://commoncrawl.org/faq/)",
]
SEARCH = [
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
    "Mozilla/5.0 (compatible; YandexBot/3.0; +http://yandex.com/bots)",
]
ASSISTANTS = [
    "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; ChatGPT-User/1.0; +https://openai.com/bot)",
    "Claude-User/1.0 (+https://www.anthropic.com)",
    "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; Perplexity-User/1.0; +https://perplexity.ai/perplexity-user)",
]
HEADLESS = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/142.0.0.0 Safari/537.36"
# nginx escapes control bytes in the log as \xNN: this one would retitle a terminal.
HOSTILE_UA = "Mozilla/5.0 zgrab/0.x \\x1B]0;pwned\\x07\\x1B[2J"
OTHER = [
    "curl/8.11.0", "python-requests/2.32.3", "Go-http-client/1.1",
    "Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)",
    "FreshRSS/1.24.3 (Linux; https://freshrss.org)",
]


def ip4(block, n):
    return f"{block}.{n}"


def clients():
    out = []
    for i in range(40):
        ip = ip4(rng.choice(["192.0.2", "198.51.100", "203.0.113"]), rng.randint(1, 254))
        if i % 7 == 0:
            ip = f"2001:db8:{rng.randint(1, 0xffff):x}::{rng.randint(1, 0xffff):x}"
        out.append(("browser", ip, rng.choice(BROWSERS)))
    for ua in AI:
        for _ in range(3):
            out.append(("ai", ip4("198.51.100", rng.randint(1, 254)), ua))
    for ua in SEARCH:
        for _ in range(2):
            out.append(("search", ip4("203.0.113", rng.randint(1, 254)), ua))
    for ua in OTHER:
        out.append(("other", ip4("192.0.2", rng.randint(1, 254)), ua))
    for ua in ASSISTANTS:
        out.append(("assistant", f"2001:db8:a1::{rng.randint(1, 0xffff):x}", ua))
    out.append(("headless", ip4("198.51.100", 200), HEADLESS))
    return out


def line(ts, ip, req, status, size, ref, ua, accept, md):
    t = ts.strftime("%d/%b/%Y:%H:%M:%S %z")
    return (f'{ip} - - [{t}] "{req}" {status} {size} "{ref}" "{ua}" '
            f'Accept:"{accept}" MarkdownServed:{md}')


def visit(kind, ts, ip, ua):
    """One visit: a list of (seconds offset, request, status, size, referrer, accept, md)."""
    html = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    page = rng.choice(PAGES)
    hits = []
    if kind in ("browser", "headless"):
        hits.append((0, page, 200, rng.randint(4000, 30000), "-", html, "0"))
        for a in ASSETS[:2]:
            hits.append((1, a, 200, rng.randint(800, 9000), "https://example.org" + page, "*/*", "0"))
        hits.append((1, "/trap.js", 200, 612, "https://example.org" + page, "*/*", "0"))
        hits.append((2, f"/api/beacon?n={rng.getrandbits(48):012x}", 204, 0,
                     "https://example.org" + page, "*/*", "0"))
        if rng.random() < 0.15:
            hits.append((30, rng.choice(DEAD), 404, 153, "https://example.org" + page, html, "0"))
    elif kind == "ai":
        if rng.random() < 0.3:
            hits.append((0, "/robots.txt", 200, 213, "-", "*/*", "0"))
        if rng.random() < 0.1:
            hits.append((0, "/llms.txt", 200, 1850, "-", "text/plain, */*", "0"))
        md = "1" if "ClaudeBot" in ua or rng.random() < 0.3 else "0"
        accept = "text/markdown, text/html;q=0.9" if md == "1" else "*/*"
        for _ in range(rng.randint(1, 4)):
            p = rng.choice(POSTS + DEAD)
            st = 404 if p in DEAD else 200
            hits.append((rng.randint(1, 40), p, st, 153 if st == 404 else rng.randint(3000, 20000),
                         "-", accept, md if st == 200 else "0"))
        if "GPTBot" in ua and rng.random() < 0.2:
            hits.append((50, "/trap.js", 200, 612, "-", "*/*", "0"))
    elif kind == "assistant":
        md = "text/markdown, text/html;q=0.9"
        if rng.random() < 0.3:
            hits.append((0, "/llms.txt", 200, 1850, "-", "text/plain, */*", "0"))
        p = rng.choice(POSTS)
        if rng.random() < 0.3:
            hits.append((1, p.rstrip("/") + ".md", 200, rng.randint(2000, 9000), "-", md, "0"))
        else:
            hits.append((1, p, 200, rng.randint(2000, 9000), "-", md, "1"))
    elif kind == "search":
        hits.append((0, "/robots.txt", 200, 213, "-", "*/*", "0"))
        hits.append((2, rng.choice(PAGES), 200, rng.randint(4000, 30000), "-", html, "0"))
        if rng.random() < 0.4:
            hits.append((4, "/sitemap.xml", 200, 2048, "-", "*/*", "0"))
    else:
        p = rng.choice(PAGES + PROBES)
        st = 404 if p in PROBES else 200
        hits.append((0, p, st, 153 if st == 404 else 5120, "-", "*/*", "0"))
    return [(ts + timedelta(seconds=s), f"GET {p} HTTP/1.1", st, sz, ref, acc, md)
            for s, p, st, sz, ref, acc, md in hits]


def main():
    who = clients()
    events = []
    for day in range(DAYS):
        for _ in range(rng.randint(120, 160)):
            kind, ip, ua = rng.choice(who)
            ts = START + timedelta(days=day, seconds=rng.randint(0, 86399))
            for when, req, st, sz, ref, acc, md in visit(kind, ts, ip, ua):
                events.append((when, line(when, ip, req, st, sz, ref, ua, acc, md)))
        # what scanners really send: empty request, TLS handshake bytes, junk verbs
        ts = START + timedelta(days=day, hours=rng.randint(0, 23))
        scanner = ip4("203.0.113", 66)
        events.append((ts, line(ts, scanner, "", 400, 0, "-", "-", "-", "0")))
        events.append((ts, line(ts, scanner, "\\x16\\x03\\x01\\x00\\xEE\\x01\\x00\\x00\\xEA\\x03\\x03", 400, 157, "-", "-", "-", "0")))
        events.append((ts, line(ts, scanner, "HELP", 400, 157, "-", "-", "-", "0")))
        for probe in rng.sample(PROBES, 3):
            events.append((ts, line(ts, scanner, f"GET {probe} HTTP/1.1", 404, 153, "-",
                                    HOSTILE_UA, "*/*", "0")))
    events.sort(key=lambda e: e[0])
    out = [e[1] for e in events]
    # a few lines arrive out of order, as they do when nginx workers flush late
    for i in range(10, len(out) - 1, 997):
        out[i], out[i + 1] = out[i + 1], out[i]
    # an error-log line that ended up in the access log
    out.insert(len(out) // 2, '2026/11/19 12:00:00 [error] 1234#1234: *77 open() '
               '"/var/www/site/wp-login.php" failed (2: No such file or directory)')
    print("\n".join(out))


if __name__ == "__main__":
    main()
