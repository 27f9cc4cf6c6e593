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
keys: catena writes the links).
"""
import os
import subprocess
import sys

from in_toto.models.layout import Inspection, Layout, Step
from in_toto.models.link import FILENAME_FORMAT
from in_toto.models.metadata import Metablock
from in_toto.runlib import in_toto_run
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
alice_id = layout.add_functionary_key(pub("alice", "rsa"))["keyid"]
bob_id = layout.add_functionary_key(pub("bob", "ecdsa"))["keyid"]
carol_id = layout.add_functionary_key(pub("carol", "ed25519"))["keyid"]

write = Step(name="write-code")
write.pubkeys = [alice_id]
write.set_expected_command_from_string("sh -c write")
write.add_product_rule_from_string("CREATE src/*")
write.add_product_rule_from_string("DISALLOW *")

build = Step(name="build")
two = scenario in ("threshold", "threshold-forged")
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
signed.sign(carol if scenario == "wrong-layout-key" else owner)
signed.dump("root.layout")
subprocess.run(["cp", "owner.pub", "layout-key.pub"], check=True)

os.makedirs("work/src", exist_ok=True)
os.chdir("work")


def run(name, key, materials, products, command, file_name_key=None):
    link = in_toto_run(name, materials, products, command, signing_key=key)
    link.dump(os.path.join(out, FILENAME_FORMAT.format(
        step_name=name, keyid=(file_name_key or key)["keyid"])))


run("write-code", alice, [], ["src"],
    ["sh", "-c", "echo 'print(1)' > src/foo.py; echo readme > src/README"])
if scenario == "tampered":
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
else:
    products = ["src", "foo.tar.gz"] + (["evil.so"] if scenario == "extra-product" else [])
    run("build", bob, ["src"], products, ["sh", "-c", build_cmd])
if scenario != "missing-link":
    run("cleanup", alice, ["src", "foo.tar.gz"], ["src", "foo.tar.gz"],
        ["sh", "-c", "rm src/README"])
