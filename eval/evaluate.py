#!/usr/bin/env python3
"""Vigil's learner, attack by attack, on the shared datasets and simulated weeks.

Prints one table. Every number comes from running `vigil analyze` here, now.
Usage: eval/evaluate.py [--vigil PATH] [--datasets DIR] [--work DIR] [--weeks N]
"""
import argparse, collections, ipaddress, json, os, shutil, subprocess, sys, time

ap = argparse.ArgumentParser()
ap.add_argument("--vigil", default=".build/release/vigil")
ap.add_argument("--datasets", default="../shared/datasets")
ap.add_argument("--work", default="eval/work")
ap.add_argument("--weeks", type=int, default=3)
ap.add_argument("--devices", type=int, default=40)
args = ap.parse_args()
D, W = args.datasets, args.work
os.makedirs(W, exist_ok=True)
rows = []

def analyze(inputs, name, extra=()):
    out = os.path.join(W, name + ".json")
    t0 = time.time()
    p = subprocess.run([args.vigil, "analyze", *inputs, "--json", out, "--quiet", "--top", "0", *extra],
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if p.returncode not in (0, 3):
        sys.exit(f"vigil analyze {inputs} failed: {p.stderr}")
    r = json.load(open(out))
    r["_seconds"] = time.time() - t0
    return r

def secs(iso):
    import datetime
    return datetime.datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()

def row(attack, data, found, detail, ttd="", score=""):
    rows.append((attack, data, "yes" if found is True else "no" if found is False else found, score, ttd, detail))

def first_breach(r, models, pred=lambda b: True):
    bs = [b for b in r["breaches"] if b["model"] in models and pred(b)]
    bs.sort(key=lambda b: (-b["score"], -b["surprisal"]))
    return bs

def alerted(b):
    # when the breach first scored 50+ (the moment an analyst would have been told)
    return secs(b.get("alertedAt") or b["time"])

def ttd(r, b):
    # time to detection: from the first observation of the input to the first alert
    return f'{max(0, alerted(b) - secs(r["summary"]["first"])):.0f} s'

if not os.path.isdir(D):
    print(f"{D} is absent; dataset rows skipped", file=sys.stderr)
else:
    # RITA's own beacon test: the beacon pair must be the top beacon breach.
    r = analyze([f"{D}/rita_beacon_3day"], "rita", ["--baseline", "0"])
    bs = first_breach(r, {"beacon"})
    top = bs[0] if bs else None
    ok = bool(top and "73.54.23.243" in top["reason"])
    rank = next((i + 1 for i, b in enumerate(bs) if "73.54.23.243" in b["reason"]), None)
    row("beacon (HTTP, 200-350 s)", "rita_beacon_3day", ok, f"rank {rank} of {len(bs)} beacon breaches; top: {top['reason'][:70] if top else '-'}", "", top["score"] if top else "")

    cases = [
        ("beacon (HTTPS every 2 s)", "slips test-cc-1", [f"{D}/slips/test-cc/test-cc-capture-1.pcap"], {"beacon"}, "141.193.213.21", ["--local", "147.32.0.0/16"]),
        ("beacon (HTTPS 2-3.6 s jitter)", "slips test-cc-2", [f"{D}/slips/test-cc/test-cc-capture-2.pcap"], {"beacon"}, "141.193.213.20", ["--local", "147.32.0.0/16"]),
        ("SSH brute force", "slips test19", [f"{D}/slips/test19-malicious-ssh/malicious-ssh-bruteforce.pcap"], {"brute-force"}, "147.32.80.37", ["--local", "147.32.0.0/16"]),
        ("ICMP sweep", "slips test12", [f"{D}/slips/test12-icmp-portscan.pcap"], {"scan"}, "", []),
        ("horizontal scan", "slips port-scans/horizontal", [f"{D}/slips/port-scans/horizontal"], {"scan"}, "", []),
        ("vertical scan", "slips port-scans/vertical", [f"{D}/slips/port-scans/vertical"], {"scan"}, "", []),
        ("nmap 80", "scans/esnet nmap_80_vanilla", [f"{D}/scans/esnet/nmap/nmap_80_vanilla.pcap"], {"scan"}, "", []),
        ("nmap 80 all (-A: scripts probe the web server)", "scans/esnet nmap_80_all", [f"{D}/scans/esnet/nmap/nmap_80_all.pcap"], {"scan", "web-probe"}, "", []),
        ("masscan tcp", "scans/esnet masscan tcp", [f"{D}/scans/esnet/masscan/tcp_0_1000_20190821.pcap"], {"scan"}, "", []),
        ("masscan udp", "scans/esnet masscan udp", [f"{D}/scans/esnet/masscan/udp_0_1000_20190821.pcap"], {"scan"}, "", []),
        ("445 scan", "scans/malcolm 445_scan", [f"{D}/scans/malcolm-bro-simple-scan/445_scan.pcap"], {"scan"}, "", []),
        ("multiport scan", "scans/malcolm multiport", [f"{D}/scans/malcolm-bro-simple-scan/multiport_scan.pcap"], {"scan"}, "", []),
        ("port scan", "scans/malcolm port_scan", [f"{D}/scans/malcolm-bro-simple-scan/port_scan.pcap"], {"scan"}, "", []),
        ("zero-window scan", "scans/malcolm zero windows", [f"{D}/scans/malcolm-bro-simple-scan/scan_with_zero_windows.pcap"], {"scan"}, "", []),
        ("DNS tunnel (iodine)", "dns_tunnel/iodine", [f"{D}/dns_tunnel/iodine/examples.elastic.github.com.pcap"], {"dns-tunnel"}, "", []),
        ("DNS tunnel (dns2tcp)", "dns_tunnel/dns2tcp", [f"{D}/dns_tunnel/dns2tcp/learn.netrack.github.com.pcap"], {"dns-tunnel"}, "", []),
    ]
    for attack, name, inputs, models, must, extra in cases:
        if not all(os.path.exists(i) for i in inputs):
            row(attack, name, "absent", "input missing"); continue
        r = analyze(inputs, name.replace("/", "_").replace(" ", "_"), ["--baseline", "0", *extra])
        bs = first_breach(r, models, lambda b: not must or must in b["reason"] or must in b["peers"] or must in b["endpoints"])
        b = bs[0] if bs else None
        row(attack, name, b is not None and b["score"] >= 50, (b["reason"][:90] if b else f"no {'/'.join(models)} breach; {len(r['breaches'])} others"),
            ttd(r, b) if b else "", b["score"] if b else "")

    # CTU labelled days: per-flow precision and recall of reported breaches (score >= 25 and >= 50).
    for sc in ["008-zeek-mixed", "010-zeek-mixed"]:
        src = f"{D}/ctu_labeled_zeek/{sc}/data"
        tmp = os.path.join(W, "ctu-" + sc)
        shutil.rmtree(tmp, ignore_errors=True); os.makedirs(tmp)
        for f in os.listdir(src):   # read in place through links named as Zeek names them
            if f.endswith(".log.labeled"):
                os.symlink(os.path.abspath(os.path.join(src, f)), os.path.join(tmp, f[:-len(".labeled")]))
        r = analyze([tmp], "ctu-" + sc)
        flows = []
        fields = None
        for line in open(os.path.join(src, "conn.log.labeled")):
            if line.startswith("#fields"): fields = line.rstrip("\n").split("\t")[1:]; continue
            if line.startswith("#"): continue
            v = dict(zip(fields, line.rstrip("\n").split("\t")))
            flows.append(v)
        for threshold in (25, 50):
            bs = [b for b in r["breaches"] if b["score"] >= threshold]
            tp = fp = fn = 0
            for v in flows:
                ts = float(v["ts"]); o, s, port = v["id.orig_h"], v["id.resp_h"], int(v["id.resp_p"])
                failed = v["conn_state"] in ("S0", "REJ", "RSTOS0", "RSTRH", "SH", "SHR") or (v["conn_state"] == "OTH" and v["orig_bytes"] in ("0", "-"))
                hit = False
                for b in bs:
                    sc_ = b["scope"]
                    if b["device"] not in (o, s): continue
                    if not (secs(b["first"]) - 1 <= ts <= secs(b["last"]) + 1): continue
                    inbound = s == b["device"]
                    if sc_["direction"] == "inbound" and not inbound: continue
                    if sc_["direction"] == "outbound" and inbound: continue
                    other = o if inbound else s
                    if sc_["peers"] and other not in sc_["peers"]: continue
                    if sc_["ports"] and port not in sc_["ports"]: continue
                    if sc_["failedOnly"] and not failed: continue
                    hit = True; break
                bad = v.get("label", "").startswith("Malicious")
                tp += hit and bad; fp += hit and not bad; fn += (not hit) and bad
            p = tp / (tp + fp) if tp + fp else 0; rc = tp / (tp + fn) if tp + fn else 0
            row(f"per-flow labels (score >= {threshold})", f"ctu {sc}", f"P {p:.2f} R {rc:.2f}",
                f"{tp} true, {fp} false, {fn} missed flows; {len(bs)} breaches")

# Lateral movement captures placed on baseline devices of a simulated office (3 days, 20
# devices), on the last working day: found when a breach scoring 50+ names one of the devices the
# capture's addresses were placed on, within the hour after the capture starts.
lm_found = lm_total = 0
if os.path.isdir(f"{D}/lateral_movement"):
    sim = os.path.join(W, "sim"); os.makedirs(sim, exist_ok=True)
    files = []
    for root, _, names in os.walk(f"{D}/lateral_movement"):
        files += [os.path.join(root, n) for n in names if n.endswith((".pcap", ".pcap.gz", ".pcapng"))]
    for f in sorted(files):
        rel = os.path.relpath(f, f"{D}/lateral_movement")
        pcap = os.path.join(sim, "lm.pcap")
        p = subprocess.run([args.vigil, "simulate", "--devices", "20", "--days", "3", "--seed", "5", "--inject", f, "--out", pcap],
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        if p.returncode != 0:
            row("lateral movement", rel, "unreadable", p.stderr.strip()[:90]); continue
        labels = json.load(open(os.path.join(sim, "lm.labels.json")))
        r = analyze([pcap], "lm")
        os.remove(pcap)
        placed = {l["device"] for l in labels if l["attack"] == "injected"}
        if not labels:
            row("lateral movement", rel, "no IPv4", "no private IPv4 addresses to place"); continue
        s0, e0 = labels[0]["startSeconds"], labels[0]["endSeconds"]
        hits = [b for b in r["breaches"] if b["device"] in placed and b["score"] >= 50 and s0 - 60 <= secs(b["time"]) <= max(e0, s0 + 3600)]
        hits.sort(key=alerted)
        lm_total += 1; lm_found += bool(hits)
        row("lateral movement", rel, bool(hits), ", ".join(sorted({b["model"] for b in hits})) or f"{len([b for b in r['breaches'] if b['device'] in placed])} breaches below 50 on placed devices",
            f'{alerted(hits[0]) - s0:.0f} s' if hits else "", max(b["score"] for b in hits) if hits else "")
    row("lateral movement: all captures", f"{lm_total} captures", f"{lm_found}/{lm_total}", "")

# Simulated weeks: clean ones for the false-alarm rate, one with every attack.
sim = os.path.join(W, "sim")
os.makedirs(sim, exist_ok=True)
total_days = total_high = 0
flat_days = flat_high = 0   # the same weeks scored against the whole network only
clean_runs = []
for seed in range(1, args.weeks + 1):
    pcap = os.path.join(sim, f"clean-{seed}.pcap")
    subprocess.run([args.vigil, "simulate", "--devices", str(args.devices), "--days", "7", "--seed", str(seed), "--out", pcap],
                   check=True, stderr=subprocess.DEVNULL)
    r = analyze([pcap], f"sim-clean-{seed}")
    flat = analyze([pcap], f"sim-clean-{seed}-flat", ["--peer-calibration", "off"])
    flat_days += flat["summary"]["deviceDays"]; flat_high += len([b for b in flat["breaches"] if b["score"] >= 50])
    os.remove(pcap)
    high = [b for b in r["breaches"] if b["score"] >= 50]
    dd = r["summary"]["deviceDays"]
    total_days += dd; total_high += len(high)
    clean_runs.append(r)
    models = collections.Counter(b["model"] for b in high)
    row("none (clean week, benign novelty)", f"simulated seed {seed}", f"{len(high) / dd:.3f}/device-day",
        f"{len(high)} breaches >= 50 in {dd:.0f} device-days {dict(models)}")
row("none: all clean weeks", f"{args.weeks} x {args.devices} devices x 7 days", f"{total_high / max(total_days, 1):.3f}/device-day",
    f"target <= 0.1; {total_high} in {total_days:.0f} device-days")
row("none: the same, peer-group calibration off", f"{args.weeks} x {args.devices} devices x 7 days", f"{flat_high / max(flat_days, 1):.3f}/device-day",
    f"{flat_high} in {flat_days:.0f} device-days: every device scored against the whole network")

pcap = os.path.join(sim, "attacks.pcap")
subprocess.run([args.vigil, "simulate", "--devices", str(args.devices), "--days", "7", "--seed", "99", "--attacks", "all", "--out", pcap],
               check=True, stderr=subprocess.DEVNULL)
labels = json.load(open(os.path.join(sim, "attacks.labels.json")))
r = analyze([pcap], "sim-attacks")
flat_attacks = analyze([pcap], "sim-attacks-flat", ["--peer-calibration", "off"])
os.remove(pcap)
expect = {"beacon": {"beacon"}, "exfiltration": {"exfiltration", "volume"}, "scan": {"scan"}, "bruteforce": {"brute-force"},
          "lateral": {"lateral-movement"}, "dnstunnel": {"dns-tunnel"}, "dga": {"dga"}, "campaign": {"scan", "lateral-movement"},
          "webscan": {"web-probe"}}
for l in labels:
    bs = [b for b in r["breaches"] if b["device"] == l["device"] and b["model"] in expect[l["attack"]]
          and secs(b["time"]) >= l["startSeconds"] - 1 and secs(b["first"]) <= l["endSeconds"] + 3600]
    best = max(bs, key=lambda b: b["score"]) if bs else None
    hits = sorted((b for b in bs if b["score"] >= 50), key=alerted)
    firsthit = hits[0] if hits else None
    row(l["attack"], "simulated week + attacks", bool(firsthit), best["reason"][:90] if best else "not found",
        f'{alerted(firsthit) - l["startSeconds"]:.0f} s' if firsthit else "", best["score"] if best else "")
def found(rep, l):
    return any(b["device"] == l["device"] and b["model"] in expect[l["attack"]] and b["score"] >= 50
               and secs(b["time"]) >= l["startSeconds"] - 1 and secs(b["first"]) <= l["endSeconds"] + 3600 for b in rep["breaches"])
row("every attack, peer-group calibration off", "simulated week + attacks", f"{sum(found(flat_attacks, l) for l in labels)}/{len(labels)}",
    f"with it on: {sum(found(r, l) for l in labels)}/{len(labels)}")
other = [b for b in r["breaches"] if b["score"] >= 50 and not any(b["device"] == l["device"] for l in labels)]
row("none (same week, other devices)", "simulated week + attacks", f"{len(other)} breaches >= 50", ", ".join(sorted({b['model'] for b in other})) or "-")

attack_runs = [(r, labels)]
pcap = os.path.join(sim, "attacks-2.pcap")
subprocess.run([args.vigil, "simulate", "--devices", str(args.devices), "--days", "7", "--seed", "98", "--attacks", "all", "--out", pcap],
               check=True, stderr=subprocess.DEVNULL)
attack_runs.append((analyze([pcap], "sim-attacks-2"), json.load(open(os.path.join(sim, "attacks-2.labels.json")))))
os.remove(pcap)

w = [max(len(str(r[i])) for r in rows + [("attack", "data", "found", "score", "detected after", "")]) for i in range(5)]
hdr = ("attack", "data", "found", "score", "detected after", "evidence")
print("  ".join(str(h).ljust(w[i]) if i < 5 else h for i, h in enumerate(hdr)))
for rr in rows:
    print("  ".join((f"{rr[i]:.0f}" if isinstance(rr[i], float) else str(rr[i])).ljust(w[i]) if i < 5 else str(rr[i]) for i in range(6)))

# The analyst: breaches and alerts in, incidents out, grouped against the labels.
def attack_devices(l):
    d = {l["device"]}
    if l["attack"] in ("campaign", "bruteforce"):
        d |= {p for p in l["peers"] if "/" not in p and ipaddress.ip_address(p).is_private}
    return d

def grouping(r, labels):
    owner = {}
    for l in labels:
        for b in r["breaches"]:
            if b["score"] >= 50 and b["device"] in attack_devices(l) and secs(b["last"]) >= l["startSeconds"] - 600 and secs(b["first"]) <= l["endSeconds"] + 3600:
                owner[b["id"]] = l["attack"]
    one = 0
    for l in labels:
        holding = [i for i in r["incidents"] if any(owner.get(b) == l["attack"] for b in i["breaches"])]
        one += len(holding) == 1
    with_attack = [i for i in r["incidents"] if any(b in owner for b in i["breaches"])]
    pure = sum(1 for i in with_attack if len({owner[b] for b in i["breaches"] if b in owner}) == 1)
    false = len(r["incidents"]) - len(with_attack)
    return one, pure, len(with_attack), false

arows = []
for n, (r, labels) in enumerate(attack_runs):
    one, pure, wa, false = grouping(r, labels)
    s_ = r["summary"]
    arows.append((f"simulated week {n + 1}, {len(labels)} attacks at once", s_["signals"], len(r["incidents"]),
                  f'{s_["signals"] / max(1, len(r["incidents"])):.0f}x', f"{one / len(labels):.2f}", f"{pure / max(1, wa):.2f}", false))
cs = sum(r["summary"]["signals"] for r in clean_runs); ci = sum(len(r["incidents"]) for r in clean_runs)
arows.append((f"{len(clean_runs)} clean weeks ({args.devices} devices, benign novelty)", cs, ci, f"{cs / max(1, ci):.0f}x" if ci else "all quiet", "", "", f"{ci / max(1, len(clean_runs)):.2f}/week"))
allsig = cs + sum(r["summary"]["signals"] for r, _ in attack_runs)
allinc = ci + sum(len(r["incidents"]) for r, _ in attack_runs)
arows.append(("all simulated weeks together", allsig, allinc, f"{allsig / max(1, allinc):.0f}x", "", "", ""))
if os.path.isdir(D):
    eve = f"{D}/slips/test6-malicious.suricata.json"
    r = analyze([], "eve-only", ["--alerts", eve])
    arows.append(("Suricata EVE alone (slips test6, Internet-facing host)", r["summary"]["signals"], len(r["incidents"]),
                  f'{r["summary"]["signals"] / max(1, len(r["incidents"])):.0f}x', "", "", ""))
print()
hdr = ("analyst", "signals in", "incidents out", "reduction", "grouping recall", "grouping precision", "false incidents")
w = [max(len(str(x[i])) for x in arows + [hdr]) for i in range(7)]
print("  ".join(str(h).ljust(w[i]) for i, h in enumerate(hdr)))
for x in arows:
    print("  ".join(str(x[i]).ljust(w[i]) for i in range(7)))
