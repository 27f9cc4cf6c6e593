#!/usr/bin/python3
"""Builds an in-toto supply chain with the reference implementation (Debian's in-toto):
keys, a signed root layout and the links of its steps, in DIR, for one SCENARIO.

    intoto_chain.py SCENARIO DIR

Writes DIR/root.layout, DIR/owner.pub (the layout key, ed25519 JSON), the links, and
DIR/work (the files the steps worked on). The test then runs in-toto-verify and catena on
the same files and compares their verdicts.

Scenarios: valid, tampered (a product altered between steps), unauthorised (a link signed
by a key the step does not authorise, under the authorised key's file name), expired,
missing-link, extra-product (a product that DISALLOW * forbids), threshold (a step needing
two functionaries, one link), threshold-forged (two links, both by one functionary), inspection (a layout with an inspection), wrong-layout-key
(the layout signed by another key than the one given), catena-link (only the layout and
keys: catena writes the links), private-key (the layout's keys hold a functionary's private
key), gpg and gpg-tampered (every key a GnuPG key: the owner RSA, alice RSA signing with a
subkey, bob Ed25519, carol DSA; signatures by gpg), sublayout and sublayout-tampered (the
build step delegated to bob, whose own layout has two steps by carol), dsse and
dsse-tampered (the layout and links in DSSE envelopes, as in-toto 2 writes them; in-toto
1.3.1 reads none, so the test knows their verdicts), extra-field and renamed-link (a
correctly signed link with an unknown field in "signed", or named for another step: where the
verdicts differ on purpose).

When the verification needs other key arguments than the default, DIR/verify.json names
them for both verifiers: {"reference": [...], "catena": [...]}.
"""
import base64
import json
import os
import subprocess
import sys

import attr
from in_toto.models.layout import Inspection, Layout, Step
from in_toto.models.link import FILENAME_FORMAT
from in_toto.models.metadata import Metablock
from in_toto.runlib import in_toto_run
import securesystemslib.formats
import securesystemslib.gpg.functions as gpg_functions
import securesystemslib.keys
from securesystemslib.interface import (import_ecdsa_privatekey_from_file,
                                        import_ed25519_privatekey_from_file,
                                        import_publickeys_from_file,
                                        import_rsa_privatekey_from_file)

scenario, out = sys.argv[1], os.path.abspath(sys.argv[2])
os.makedirs(out, exist_ok=True)
os.chdir(out)


def keygen(name, kind):
    # The reference's own key generator, so the key files are the ones users have.
    subprocess.run(["in-toto-keygen", "-t", kind, name], check=True, stdout=subprocess.DEVNULL)
    if kind == "rsa":
        return import_rsa_privatekey_from_file(name)
    if kind == "ecdsa":
        return import_ecdsa_privatekey_from_file(name)
    return import_ed25519_privatekey_from_file(name)


def pub(name, kind):
    key = list(import_publickeys_from_file([name + ".pub"], [kind]).values())[0]
    key["keyval"].pop("private", None)
    return key


owner = keygen("owner", "ed25519")
alice = keygen("alice", "rsa")
bob = keygen("bob", "ecdsa")
carol = keygen("carol", "ed25519")

GPG = scenario.startswith("gpg")
DSSE = scenario.startswith("dsse")
SUB = scenario.startswith("sublayout")
gpg_home = os.path.join(out, "gnupg")


def gpg_key(uid, algorithm, subkey=None):
    # A key with no passphrase, made by gpg itself; its fingerprint is its in-toto keyid.
    base = ["gpg", "--homedir", gpg_home, "--batch", "--quiet", "--passphrase", ""]
    subprocess.run(base + ["--quick-gen-key", uid, algorithm, "sign", "never"], check=True,
                   stderr=subprocess.DEVNULL)
    listing = subprocess.run(base + ["--with-colons", "--list-keys", uid], check=True,
                             capture_output=True, text=True).stdout
    fpr = [line.split(":")[9] for line in listing.splitlines() if line.startswith("fpr")][0]
    if subkey:
        # gpg signs with the newest signing subkey: the signatures name it, not the primary.
        subprocess.run(base + ["--quick-add-key", fpr, subkey, "sign", "never"], check=True,
                       stderr=subprocess.DEVNULL)
    return fpr.lower()


class GpgSigner:
    # Stands for a key in run() and Metablock signing when the scenario uses gpg.
    def __init__(self, fpr):
        self.fpr = fpr
        self.pub = gpg_functions.export_pubkey(fpr, gpg_home)

    def __getitem__(self, name):
        return self.fpr if name == "keyid" else self.pub[name]


def envelope(signed_dict, keys):
    # DSSE v1 over the in-toto payload, signed through securesystemslib (not through catena).
    payload = json.dumps(signed_dict, sort_keys=True).encode()
    ptype = b"application/vnd.in-toto+json"
    pae = b"DSSEv1 %d %s %d %s" % (len(ptype), ptype, len(payload), payload)
    sigs = []
    for key in keys:
        sig = securesystemslib.keys.create_signature(key, pae)
        sigs.append({"keyid": key["keyid"], "sig": base64.b64encode(bytes.fromhex(sig["sig"])).decode()})
    return {"payloadType": ptype.decode(), "payload": base64.b64encode(payload).decode(),
            "signatures": sigs}


def write_json(path, doc):
    with open(path, "w") as f:
        json.dump(doc, f, indent=1)


if GPG:
    os.makedirs(gpg_home, mode=0o700)
    owner = GpgSigner(gpg_key("owner <owner@example.org>", "rsa3072"))
    alice = GpgSigner(gpg_key("alice <alice@example.org>", "rsa2048", subkey="rsa2048"))
    bob = GpgSigner(gpg_key("bob <bob@example.org>", "ed25519"))
    carol = GpgSigner(gpg_key("carol <carol@example.org>", "dsa2048"))
    write_json("owner.gpg.json", owner.pub)
    write_json("verify.json", {"reference": ["--gpg", owner.fpr, "--gpg-home", gpg_home],
                               "catena": ["owner.gpg.json"]})

layout = Layout()
if scenario == "catena-link":
    # Only the layout: the test has catena write the links, with alice's RSA PEM key and
    # carol's securesystemslib JSON Ed25519 key.
    layout.set_relative_expiration(days=30)
    alice_id = layout.add_functionary_key(pub("alice", "rsa"))["keyid"]
    carol_id = layout.add_functionary_key(pub("carol", "ed25519"))["keyid"]
    build = Step(name="build")
    build.pubkeys = [alice_id]
    build.add_material_rule_from_string("ALLOW src/*")
    build.add_material_rule_from_string("DISALLOW *")
    build.add_product_rule_from_string("CREATE out.txt")
    build.add_product_rule_from_string("DISALLOW *")
    package = Step(name="package")
    package.pubkeys = [carol_id]
    package.add_material_rule_from_string("MATCH out.txt WITH PRODUCTS FROM build")
    package.add_material_rule_from_string("DISALLOW *")
    package.add_product_rule_from_string("CREATE out.tar")
    package.add_product_rule_from_string("DISALLOW *")
    layout.steps = [build, package]
    signed = Metablock(signed=layout)
    signed.sign(owner)
    signed.dump("root.layout")
    subprocess.run(["cp", "owner.pub", "layout-key.pub"], check=True)
    os.makedirs("work/src", exist_ok=True)
    with open("work/src/main.c", "w") as f:
        f.write("int main(void) { return 0; }\n")
    sys.exit(0)

layout.set_relative_expiration(days=-1 if scenario == "expired" else 30)
if GPG:
    alice_id = layout.add_functionary_key_from_gpg_keyid(alice.fpr, gpg_home)["keyid"]
    bob_id = layout.add_functionary_key_from_gpg_keyid(bob.fpr, gpg_home)["keyid"]
    carol_id = layout.add_functionary_key_from_gpg_keyid(carol.fpr, gpg_home)["keyid"]
else:
    alice_id = layout.add_functionary_key(pub("alice", "rsa"))["keyid"]
    bob_id = layout.add_functionary_key(pub("bob", "ecdsa"))["keyid"]
    carol_id = layout.add_functionary_key(pub("carol", "ed25519"))["keyid"]

write = Step(name="write-code")
write.pubkeys = [alice_id]
write.set_expected_command_from_string("sh -c write")
write.add_product_rule_from_string("CREATE src/*")
write.add_product_rule_from_string("DISALLOW *")

build = Step(name="build")
two = scenario in ("threshold", "threshold-forged", "gpg")
build.pubkeys = [bob_id, carol_id] if two else [bob_id]
build.threshold = 2 if two else 1
build.add_material_rule_from_string("MATCH * IN src WITH PRODUCTS IN src FROM write-code")
build.add_material_rule_from_string("DISALLOW *")
build.add_product_rule_from_string("REQUIRE foo.tar.gz")
build.add_product_rule_from_string("CREATE foo.tar.gz")
build.add_product_rule_from_string("MODIFY src/README")
build.add_product_rule_from_string("MATCH src/foo.py WITH PRODUCTS FROM write-code")
build.add_product_rule_from_string("DISALLOW *")

clean = Step(name="cleanup")
clean.pubkeys = [alice_id]
clean.add_material_rule_from_string("DELETE src/README")
clean.add_material_rule_from_string("MATCH * WITH PRODUCTS FROM build")
clean.add_material_rule_from_string("DISALLOW *")
clean.add_product_rule_from_string("MATCH * WITH PRODUCTS FROM build")
clean.add_product_rule_from_string("DISALLOW *")
layout.steps = [write, build, clean]

if scenario == "inspection":
    check = Inspection(name="list")
    check.set_run_from_string("ls work")
    check.add_material_rule_from_string("MATCH foo.tar.gz IN work WITH PRODUCTS FROM build")
    check.add_material_rule_from_string("ALLOW *")
    check.add_product_rule_from_string("ALLOW *")
    layout.inspect = [check]

signed = Metablock(signed=layout)
if GPG:
    signed.sign_gpg(owner.fpr, gpg_home)
    signed.dump("root.layout")
elif DSSE:
    write_json("root.layout", envelope(attr.asdict(layout), [owner]))
elif scenario == "private-key":
    # The reference's API refuses to make this layout; it is written and signed by hand.
    doc = attr.asdict(layout)
    doc["keys"][alice_id]["keyval"]["private"] = alice["keyval"]["private"]
    data = securesystemslib.formats.encode_canonical(doc).encode()
    write_json("root.layout", {"signed": doc,
                               "signatures": [securesystemslib.keys.create_signature(owner, data)]})
else:
    signed.sign(carol if scenario == "wrong-layout-key" else owner)
    signed.dump("root.layout")
subprocess.run(["cp", "owner.pub", "layout-key.pub"], check=True)

os.makedirs("work/src", exist_ok=True)
os.chdir("work")


def run(name, key, materials, products, command, file_name_key=None, link_dir=out):
    if GPG:
        link = in_toto_run(name, materials, products, command, gpg_keyid=key.fpr,
                           gpg_home=gpg_home)
    elif DSSE:
        link = in_toto_run(name, materials, products, command)
        path = os.path.join(link_dir, FILENAME_FORMAT.format(
            step_name=name, keyid=(file_name_key or key)["keyid"]))
        write_json(path, envelope(attr.asdict(link.signed), [key]))
        return
    else:
        link = in_toto_run(name, materials, products, command, signing_key=key)
    link.dump(os.path.join(link_dir, FILENAME_FORMAT.format(
        step_name=name, keyid=(file_name_key or key)["keyid"])))
    return link


run("write-code", alice, [], ["src"],
    ["sh", "-c", "echo 'print(1)' > src/foo.py; echo readme > src/README"])
if scenario in ("tampered", "gpg-tampered", "dsse-tampered"):
    with open("src/foo.py", "a") as f:
        f.write("import evil\n")
build_cmd = "echo built >> src/README; tar czf foo.tar.gz src/foo.py"
if scenario == "extra-product":
    build_cmd += "; echo x > evil.so"
if scenario == "threshold-forged":
    # Two link files, but both signed by bob: one functionary cannot meet a threshold of 2.
    run("build", bob, ["src"], ["src", "foo.tar.gz"], ["sh", "-c", build_cmd])
    run("build", bob, ["src"], ["src", "foo.tar.gz"], ["true"], file_name_key=carol)
elif scenario == "unauthorised":
    run("build", carol, ["src"], ["src", "foo.tar.gz"], ["sh", "-c", build_cmd], file_name_key=bob)
elif scenario == "gpg":
    # Two functionaries attest one run: carol signs what bob recorded.
    link = run("build", bob, ["src"], ["src", "foo.tar.gz"], ["sh", "-c", build_cmd])
    twin = Metablock(signed=link.signed)
    twin.sign_gpg(carol.fpr, gpg_home)
    twin.dump(os.path.join(out, FILENAME_FORMAT.format(step_name="build", keyid=carol.fpr)))
elif SUB:
    # bob delegates the build: his sublayout, signed with his key and filed as his link, has
    # carol compile then pack; its links lie in build.<bob's keyid8>/.
    sub = Layout()
    sub.set_relative_expiration(days=30)
    sub_carol = sub.add_functionary_key(pub(os.path.join(out, "carol"), "ed25519"))["keyid"]
    compile_step = Step(name="compile")
    compile_step.pubkeys = [sub_carol]
    compile_step.add_material_rule_from_string("ALLOW src/*")
    compile_step.add_material_rule_from_string("DISALLOW *")
    compile_step.add_product_rule_from_string("MODIFY src/README")
    compile_step.add_product_rule_from_string("ALLOW src/*")
    compile_step.add_product_rule_from_string("DISALLOW *")
    pack = Step(name="pack")
    pack.pubkeys = [sub_carol]
    pack.add_material_rule_from_string("MATCH * WITH PRODUCTS FROM compile")
    pack.add_material_rule_from_string("DISALLOW *")
    pack.add_product_rule_from_string("CREATE foo.tar.gz")
    pack.add_product_rule_from_string("MATCH * WITH PRODUCTS FROM compile")
    pack.add_product_rule_from_string("DISALLOW *")
    sub.steps = [compile_step, pack]
    sub_signed = Metablock(signed=sub)
    sub_signed.sign(bob)
    sub_signed.dump(os.path.join(out, FILENAME_FORMAT.format(step_name="build",
                                                             keyid=bob["keyid"])))
    sub_dir = os.path.join(out, "build." + bob["keyid"][:8])
    os.makedirs(sub_dir)
    run("compile", carol, ["src"], ["src"], ["sh", "-c", "echo built >> src/README"],
        link_dir=sub_dir)
    pack_cmd = "tar czf foo.tar.gz src/foo.py"
    if scenario == "sublayout-tampered":
        pack_cmd += "; echo x > evil.so"
    products = ["src", "foo.tar.gz"] + (["evil.so"] if scenario == "sublayout-tampered" else [])
    run("pack", carol, ["src"], products, ["sh", "-c", pack_cmd], link_dir=sub_dir)
else:
    products = ["src", "foo.tar.gz"] + (["evil.so"] if scenario == "extra-product" else [])
    run("build", bob, ["src"], products, ["sh", "-c", build_cmd])
if scenario != "missing-link":
    run("cleanup", alice, ["src", "foo.tar.gz"], ["src", "foo.tar.gz"],
        ["sh", "-c", "rm src/README"])

if scenario in ("extra-field", "renamed-link"):
    # Documented differences: the cleanup link re-signed by alice (securesystemslib's own
    # canonical encoding and signature) with an extra field in "signed", or under the name of
    # another step.
    path = os.path.join(out, FILENAME_FORMAT.format(step_name="cleanup", keyid=alice["keyid"]))
    with open(path) as f:
        doc = json.load(f)
    if scenario == "extra-field":
        doc["signed"]["x-note"] = "an unknown field, signed"
    else:
        doc["signed"]["name"] = "build"
    data = securesystemslib.formats.encode_canonical(doc["signed"]).encode()
    doc["signatures"] = [securesystemslib.keys.create_signature(alice, data)]
    write_json(path, doc)
