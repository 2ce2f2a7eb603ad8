"""Drives the Vigil web console in headless Chromium (Debian's) through Playwright (PyPI).

usage: console.py BASE_URL TOKEN INCIDENT_ID HOSTILE_DEVICE HOSTILE_TEXT...
Prints one JSON object with what it saw; the Swift test judges it.
"""
import json
import sys
from playwright.sync_api import sync_playwright

base, token, incident, device = sys.argv[1:5]
hostile = sys.argv[5:]
seen = {"dialogs": [], "errors": [], "csp": None}

with sync_playwright() as p:
    browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox", "--disable-gpu"])
    page = browser.new_page()
    page.on("dialog", lambda d: (seen["dialogs"].append(d.message), d.dismiss()))
    page.on("pageerror", lambda e: seen["errors"].append(str(e)))
    response = page.goto(base + "/")
    seen["csp"] = response.headers.get("content-security-policy")

    # Log in with the token.
    page.fill("#token", token)
    page.click("#login button[type=submit]")
    page.wait_for_selector("#incidents", timeout=20000)
    seen["who"] = page.inner_text("#who")
    seen["overview_rows"] = page.locator("#incidents tr").count() - 1

    # Open the incident from the overview and read its story.
    page.click(f'#incidents a[href="#/incident/{incident}"]')
    page.wait_for_selector("#narrative p", timeout=20000)
    seen["title"] = page.inner_text("#incident-title")
    seen["narrative"] = page.inner_text("#narrative")
    seen["timeline_dots"] = page.locator("#timeline-chart circle").count()
    seen["timeline_rows"] = page.locator("#timeline tr").count()

    # The hostile device: its name (from DHCP) on the devices page, its HTTP and TLS records in search.
    page.goto(base + "/#/devices")
    page.wait_for_selector("#devices", timeout=20000)
    seen["devices_text"] = page.inner_text("#devices")
    page.goto(base + "/#/search?q=" + device)
    page.wait_for_selector("#observations", timeout=20000)
    seen["search_text"] = page.inner_text("#observations")
    page.goto(base + "/#/device/" + device)
    page.wait_for_selector("#device-title", timeout=20000)
    seen["device_title"] = page.inner_text("#device-title")
    page.wait_for_timeout(500)

    # Did anything the attacker wrote run, or become markup?
    seen["xss"] = page.evaluate("() => window.__xss === undefined ? null : String(window.__xss)")
    seen["injected_elements"] = page.evaluate("() => document.querySelectorAll('main script, main img, main svg[onload], main iframe').length")
    seen["hostile_shown_as_text"] = {h: (h in seen["devices_text"] or h in seen["search_text"] or h in seen["device_title"]) for h in hostile}
    browser.close()

print(json.dumps(seen))
