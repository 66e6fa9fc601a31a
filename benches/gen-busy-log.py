#!/usr/bin/env python3
"""A year (or --days N) of a busy personal site, as an nginx log in Honeybot's extended format.

Deterministic (fixed seed). About --per-day requests a day (default 50 000, +-20 % by weekday):
browsers reading a few thousand pages (Zipf popularity) with their assets, the trap script and
its beacon (with a unique nonce), search engines, AI crawlers and assistants (some asking for
Markdown and llms.txt), SEO and social bots, feed readers and monitors, scripts, and scanners
probing for exploits from thousands of addresses. Tens of thousands of client addresses
(private 10.0.0.0/8 and fd00::/8 ranges: no one's data), hundreds of user-agent strings.

    benches/gen-busy-log.py --days 365 > busy.log
"""
import argparse
import random
import sys
from datetime import date, timedelta
from itertools import accumulate

p = argparse.ArgumentParser()
p.add_argument("--days", type=int, default=365)
p.add_argument("--per-day", type=int, default=50_000)
p.add_argument("--end", default="2026-11-30", help="last day (YYYY-MM-DD)")
args = p.parse_args()
rng = random.Random(20261205)

MONTHS = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()
CLOCK = [f"{h:02}:{m:02}:{s:02}" for h in range(24) for m in range(60) for s in range(60)]
HTML = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
MD = "text/markdown, text/html;q=0.9"

words = ("nix sqlite rust vim llm bots logs piper tts flakes home lab notes backup zfs wasm "
         "tmux shell git emacs keyboard tea bike garden audio radio camera linux server dns "
         "mail caddy nginx static site search index cache queue metrics").split()
PAGES = ["/", "/about/", "/archive/", "/tags/", "/now/"]
seen = set(PAGES)
while len(PAGES) < 3000:
    slug = "-".join(rng.sample(words, rng.randint(2, 4)))
    path = f"/{rng.choice(['futureproof', 'notes', 'posts'])}/{slug}/"
    if path not in seen:
        seen.add(path)
        PAGES.append(path)
PAGE_W = list(accumulate(1 / (i + 1) ** 1.05 for i in range(len(PAGES))))
MDS = [p.rstrip("/") + ".md" if p != "/" else "/index.md" for p in PAGES[:600]]
ASSETS = ["/assets/main.css", "/assets/site.js", "/favicon.ico"] + [
    f"/images/{rng.choice(words)}-{i}.{rng.choice(['png', 'jpg', 'webp', 'svg'])}" for i in range(400)]
DEAD = [f"/{rng.choice(['blog', 'old', 'posts', 'notes'])}/{rng.choice(words)}-{rng.choice(words)}{rng.choice(['', '/', '.html'])}"
        for _ in range(300)]
PROBES = (["/wp-login.php", "/xmlrpc.php", "/.env", "/.git/config", "/.git/HEAD", "/wp-admin/",
           "/phpmyadmin/index.php", "/cgi-bin/luci/;stok=/locale", "/.aws/credentials",
           "/admin.php", "/boaform/admin/formLogin", "/HNAP1/", "/actuator/env", "/config.php",
           "/vendor/phpunit/phpunit/src/Util/PHP/eval-stdin.php", "/server-status"]
          + [f"/wp-content/plugins/{w}/readme.txt" for w in words]
          + [f"/{w}/.env" for w in words] + [f"/{w}.php" for w in words]
          + [f"/backup/{w}.sql" for w in words])

def browser_uas():
    out = []
    for v in range(100, 146):
        out.append(f"Mozilla/5.0 (X11; Linux x86_64; rv:{v}.0) Gecko/20100101 Firefox/{v}.0")
        out.append(f"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:{v}.0) Gecko/20100101 Firefox/{v}.0")
    for v in range(110, 143):
        for osv in ["Windows NT 10.0; Win64; x64", "Macintosh; Intel Mac OS X 10_15_7", "X11; Linux x86_64"]:
            out.append(f"Mozilla/5.0 ({osv}) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{v}.0.0.0 Safari/537.36")
        out.append(f"Mozilla/5.0 (Linux; Android 14; Pixel {v % 9}) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{v}.0.0.0 Mobile Safari/537.36")
    for v in range(15, 19):
        for m in range(0, 7):
            out.append(f"Mozilla/5.0 (iPhone; CPU iPhone OS {v}_{m} like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/{v}.{m} Mobile/15E148 Safari/604.1")
            out.append(f"Mozilla/5.0 (Macintosh; Intel Mac OS X 14_{m}) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/{v}.{m} Safari/605.1.15")
    return out

BROWSERS = browser_uas()
AI_CRAWLERS = [
    "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.2; +https://openai.com/gptbot)",
    "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; ClaudeBot/1.0; +claudebot@anthropic.com)",
    "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; PerplexityBot/1.0; +https://perplexity.ai/perplexitybot)",
    "Mozilla/5.0 (compatible; Bytespider; spider-feedback@bytedance.com)",
    "CCBot/2.0 (https://commoncrawl.org/faq/)",
    "meta-externalagent/1.1 (+https://developers.facebook.com/docs/sharing/webmasters/crawler)",
    "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; Amazonbot/0.1; +https://developer.amazon.com/support/amazonbot)",
]
AI_ASSISTANTS = [
    "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; ChatGPT-User/1.0; +https://openai.com/bot)",
    "Claude-User/1.0 (+https://www.anthropic.com)",
    "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; Perplexity-User/1.0; +https://perplexity.ai/perplexity-user)",
]
SEARCH = [
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
    "Mozilla/5.0 (compatible; YandexBot/3.0; +http://yandex.com/bots)",
    "Mozilla/5.0 (compatible; Baiduspider/2.0; +http://www.baidu.com/search/spider.html)",
    "Mozilla/5.0 (compatible; DuckDuckBot-Https/1.1; https://duckduckgo.com/duckduckbot)",
]
SEO = ["Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)",
       "Mozilla/5.0 (compatible; SemrushBot/7~bl; +http://www.semrush.com/bot.html)",
       "Mozilla/5.0 (compatible; MJ12bot/v1.4.8; http://mj12bot.com/)",
       "Mozilla/5.0 (compatible; DotBot/1.2; +https://opensiteexplorer.org/dotbot)"]
SOCIAL = ["facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
          "Twitterbot/1.0", "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
          "Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)"]
FEEDS = [f"FreshRSS/1.{v}.0 (Linux; https://freshrss.org)" for v in range(20, 25)] + [
    "Feedly/1.0 (+http://www.feedly.com/fetcher.html; 12 subscribers)",
    "NetNewsWire (RSS Reader; https://netnewswire.com/)",
    "Mozilla/5.0 (compatible; UptimeRobot/2.0; http://www.uptimerobot.com/)"]
SCRIPTS = [f"curl/8.{v}.0" for v in range(0, 12)] + [f"python-requests/2.{v}.0" for v in range(25, 33)] + [
    "Go-http-client/1.1", "Go-http-client/2.0", "okhttp/4.12.0", "Wget/1.21.4", "axios/1.7.2"]
SCANNERS = ["Mozilla/5.0 zgrab/0.x", "Mozilla/5.0 (compatible; Nuclei - Open-source project (github.com/projectdiscovery/nuclei))",
            "masscan/1.3 (https://github.com/robertdavidgraham/masscan)", "-", ""] + BROWSERS[:20]


def ip_pool(n, v6_share, prefix):
    out = []
    for i in range(n):
        if rng.random() < v6_share:
            out.append(f"fd00:{prefix:x}:{rng.randint(0, 0xffff):x}::{rng.randint(1, 0xffff):x}")
        else:
            out.append(f"10.{prefix}.{rng.randint(0, 255)}.{rng.randint(1, 254)}")
    return out

BROWSER_IPS = ip_pool(60_000, 0.2, 1) + ip_pool(20_000, 0.2, 2)
BOT_IPS = ip_pool(3_000, 0.05, 3)
SCAN_IPS = ip_pool(8_000, 0.1, 4)


def main():
    end = date.fromisoformat(args.end)
    out = sys.stdout
    choices, randint, random_ = rng.choices, rng.randint, rng.random
    for day in range(args.days):
        d = end - timedelta(days=args.days - 1 - day)
        stamp = f"{d.day:02}/{MONTHS[d.month - 1]}/{d.year}"
        target = int(args.per_day * (1.2 if d.weekday() < 5 else 0.8) * rng.uniform(0.9, 1.1))
        ev = []
        add = ev.append
        # browsers: ~55 % of requests, 4.5 requests a visit
        visits = int(target * 0.55 / 4.5)
        for page, ip, ua, t in zip(choices(PAGES, cum_weights=PAGE_W, k=visits),
                                   choices(BROWSER_IPS, k=visits), choices(BROWSERS, k=visits),
                                   choices(range(86_000), k=visits)):
            ref = "https://example.org" + page
            add((t, ip, page, 200, 9000, "-", ua, HTML, 0))
            if random_() < 0.7:
                add((t + 1, ip, "/assets/main.css", 200, 7000, ref, ua, "text/css,*/*;q=0.1", 0))
                add((t + 1, ip, rng.choice(ASSETS), 200, 20000, ref, ua, "image/avif,image/webp,*/*", 0))
            add((t + 1, ip, "/trap.js", 200, 612, ref, ua, "*/*", 0))
            if random_() < 0.92:
                add((t + 2, ip, f"/api/beacon?n={rng.getrandbits(40):x}", 204, 0, ref, ua, "*/*", 0))
            if random_() < 0.04:
                add((t + 40, ip, rng.choice(DEAD), 404, 153, ref, ua, HTML, 0))
        # crawlers and other bots: one request each, weights per group
        groups = [(0.12, SEARCH, BOT_IPS, "search"), (0.10, AI_CRAWLERS, BOT_IPS, "ai"),
                  (0.02, AI_ASSISTANTS, BROWSER_IPS, "assistant"), (0.05, SEO, BOT_IPS, "seo"),
                  (0.01, SOCIAL, BOT_IPS, "social"), (0.03, FEEDS, BROWSER_IPS, "feed"),
                  (0.03, SCRIPTS, BROWSER_IPS, "script")]
        for share, uas, ips, kind in groups:
            n = int(target * share)
            uas_n = choices(uas, k=n)
            for ua, ip, t, page in zip(uas_n, choices(ips, k=n), choices(range(86_399), k=n),
                                       choices(PAGES, cum_weights=PAGE_W, k=n)):
                r = random_()
                if kind == "feed":
                    add((t, ip, "/feed.xml", 200, 40000, "-", ua, "application/rss+xml, */*", 0))
                elif r < 0.04 and kind != "social":
                    add((t, ip, "/robots.txt", 200, 300, "-", ua, "*/*", 0))
                elif kind in ("ai", "assistant") and r < 0.07:
                    add((t, ip, "/llms.txt", 200, 2100, "-", ua, "text/plain", 0))
                elif kind in ("ai", "assistant") and r < 0.2:
                    add((t, ip, rng.choice(MDS), 200, 6000, "-", ua, MD, 0))
                elif kind in ("ai", "assistant") and r < 0.45 and ("Claude" in ua or "ChatGPT" in ua):
                    add((t, ip, page, 200, 6000, "-", ua, MD, 1))
                elif r < 0.07:
                    add((t, ip, rng.choice(DEAD), 404, 153, "-", ua, HTML, 0))
                else:
                    add((t, ip, page, 200, 9000, "-", ua, HTML, 0))
        # scanners: probes, ~7 %
        n = int(target * 0.07)
        for ua, ip, t, path in zip(choices(SCANNERS, k=n), choices(SCAN_IPS, k=n),
                                   choices(range(86_399), k=n), choices(PROBES, k=n)):
            add((t, ip, path, 404, 153, "-", ua, "*/*", 0))
        ev.sort(key=lambda e: e[0])
        lines = [f'{ip} - - [{stamp}:{CLOCK[min(t, 86_399)]} +0000] "GET {path} HTTP/1.1" {st} {size} '
                 f'"{ref}" "{ua}" Accept:"{acc}" MarkdownServed:{md}'
                 for t, ip, path, st, size, ref, ua, acc, md in ev]
        out.write("\n".join(lines))
        out.write("\n")


if __name__ == "__main__":
    main()
