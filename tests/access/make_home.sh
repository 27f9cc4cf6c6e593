#!/bin/sh
# Builds a home directory holding one of every kind of credential catena discovers, made with
# the real tools (ssh-keygen, openssl, gpg). Every secret value starts with "catenasecret" (or is
# a private key) so a test can look for leaks.
# usage: make_home.sh DIR [NAME]   (NAME varies the secrets; default "a")
set -eu
home=$1
name=${2:-a}
s="catenasecret${name}"
mkdir -p "$home"
cd "$home"
mkdir -p .ssh .config/gh .config/glab-cli .cargo .docker .m2 .gem .nuget/NuGet .aws \
  .config/gcloud/legacy_credentials/dev@example.com .azure .kube signing actions-runner \
  .gitlab-runner project/.git .cache/deep node_modules/x
chmod 700 .ssh

ssh-keygen -q -t ed25519 -N '' -C "dev@${name}-laptop" -f .ssh/id_ed25519
ssh-keygen -q -t rsa -b 2048 -N 'hunter2' -C "deploy@${name}" -f .ssh/deploy_rsa
cat > .ssh/config <<CFG
Host build
  HostName build1.corp.example
  User ci
  IdentityFile ~/.ssh/deploy_rsa
  ForwardAgent yes
Host git.corp.example
  User git
Host *
  IdentityAgent ~/.1password/agent.sock
CFG
printf 'github.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl\nbuild2.corp.example,10.0.0.5 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl\n|1|abc=|def= ssh-rsa AAAA\n' > .ssh/known_hosts

cat > .gitconfig <<CFG
[user]
	name = Dev
	signingkey = ABCDEF0123456789
[credential]
	helper = store
[credential "https://git.corp.example"]
	helper = !f() { echo password=${s}_helper; }; f
[url "https://x-access-token:${s}_insteadof@github.com/"]
	insteadOf = https://github.com/
CFG
printf 'https://dev:%s_gitcred@github.com\nhttps://%s_bare_token_0123456789@gitlab.com\n' "$s" "$s" > .git-credentials
chmod 600 .git-credentials
cat > project/.git/config <<CFG
[core]
	bare = false
[remote "origin"]
	url = https://ci:${s}_remote@github.com/acme/app.git
	fetch = +refs/heads/*:refs/remotes/origin/*
[remote "upstream"]
	url = git@github.com:acme/upstream.git
[http "https://github.com/"]
	extraheader = AUTHORIZATION: basic ${s}_extraheader
CFG
printf 'github.com:\n    oauth_token: %s_gh\n    user: devuser\n    git_protocol: ssh\n' "$s" > .config/gh/hosts.yml
printf 'hosts:\n  gitlab.com:\n    token: %s_glab\n    user: devuser\n' "$s" > .config/glab-cli/config.yml
printf 'registry=https://registry.npmjs.org/\n//registry.npmjs.org/:_authToken=%s_npm\n//npm.pkg.github.com/:_authToken=${GITHUB_TOKEN}\n' "$s" > .npmrc
printf '[distutils]\nindex-servers = pypi\n\n[pypi]\nusername = __token__\npassword = %s_pypi\n' "$s" > .pypirc
printf '[registry]\ntoken = "%s_cargo"\n' "$s" > .cargo/credentials.toml
auth=$(printf 'robot:%s_docker' "$s" | base64 -w0)
printf '{"auths":{"ghcr.io":{"auth":"%s"}},"credHelpers":{"123.dkr.ecr.us-east-1.amazonaws.com":"ecr-login"}}\n' "$auth" > .docker/config.json
cat > .m2/settings.xml <<CFG
<settings><servers>
<server><id>releases</id><username>deployer</username><password>${s}_maven</password></server>
<server><id>snapshots</id><username>snap</username><password>{encrypted}</password></server>
</servers></settings>
CFG
printf -- '---\n:rubygems_api_key: %s_gem\n' "$s" > .gem/credentials
cat > .nuget/NuGet/NuGet.Config <<CFG
<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <packageSourceCredentials>
    <acme>
      <add key="Username" value="nugetuser" />
      <add key="ClearTextPassword" value="${s}_nuget" />
    </acme>
  </packageSourceCredentials>
</configuration>
CFG
printf '[default]\naws_access_key_id = AKIAEXAMPLE%s\naws_secret_access_key = %s_aws\n' "$(echo "$name" | tr a-z A-Z)" "$s" > .aws/credentials
printf '[profile release]\nrole_arn = arn:aws:iam::123456789012:role/release\nsource_profile = default\n' > .aws/config
printf '{"type":"authorized_user","client_id":"123.apps.googleusercontent.com","client_secret":"%s_gcloudcs","refresh_token":"%s_gcloud"}\n' "$s" "$s" > .config/gcloud/application_default_credentials.json
printf '{"type":"service_account","project_id":"acme-build","client_email":"ci@acme-build.iam.gserviceaccount.com","private_key":"%s_gsa"}\n' "$s" > .config/gcloud/legacy_credentials/dev@example.com/adc.json
printf '{"AccessToken":{"k":{"secret":"%s_azure","home_account_id":"x"}},"Account":{"a":{"username":"dev@acme.onmicrosoft.com"}}}\n' "$s" > .azure/msal_token_cache.json
cat > .kube/config <<CFG
apiVersion: v1
clusters:
- cluster:
    server: https://k8s.build.corp.example:6443
  name: build
contexts:
- context:
    cluster: build
    user: ci-admin
  name: build-admin
users:
- name: ci-admin
  user:
    token: ${s}_kube
CFG
printf '{"agentId":7,"agentName":"%s-runner","poolName":"Default","serverUrl":"https://pipelines.actions.githubusercontent.com/x","gitHubUrl":"https://github.com/acme","workFolder":"_work"}\n' "$name" > actions-runner/.runner
printf '{"d":"%s_runnerkey"}\n' "$s" > actions-runner/.credentials_rsaparams
printf 'concurrent = 1\n[[runners]]\n  name = "builder-%s"\n  url = "https://gitlab.corp.example/"\n  token = "%s_gitlabrunner"\n  executor = "shell"\n' "$name" "$s" > .gitlab-runner/config.toml

printf '{"scheme":"OAuth","data":{"clientId":"4c9a-%s","authorizationUrl":"https://pipelines.actions.githubusercontent.com/x/_apis/oauth2/token"}}\n' "$name" > actions-runner/.credentials
mkdir -p buildkite .jenkins/secrets jenkins-agent .config/pkcs11/modules .config/gcloud/configurations
printf 'token="%s_buildkite"\nname="%s-%%spawn"\n' "$s" "$name" > buildkite/buildkite-agent.cfg
printf '%s_jenkinsmaster' "$s" > .jenkins/secrets/master.key
printf '%s_jenkinsagent' "$s" > jenkins-agent/secret-file
printf 'module: /usr/lib/x86_64-linux-gnu/opensc-pkcs11.so\n' > .config/pkcs11/modules/opensc.module
printf '[core]\naccount = dev@example.com\nproject = acme-build\n' > .config/gcloud/configurations/config_default
printf -- '-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n%s\n-----END ENCRYPTED SIGSTORE PRIVATE KEY-----\n' \
  "$(printf '{"kdf":{"name":"scrypt"},"cipher":{"name":"nacl/secretbox"},"ciphertext":"%s_cosign"}' "$s" | base64 -w0)" > signing/cosign.key

# Code signing: a certificate with the code-signing EKU, its key unencrypted (PEM and PKCS#12
# without a password) and encrypted (PKCS#12 with one).
openssl req -x509 -newkey rsa:2048 -nodes -keyout signing/release.key -out signing/release.crt \
  -days 30 -subj "/CN=Acme Code Signing ${name}" -addext "extendedKeyUsage=codeSigning" 2>/dev/null
openssl pkcs12 -export -inkey signing/release.key -in signing/release.crt -out signing/release.pfx \
  -passout pass: 2>/dev/null
openssl pkcs12 -export -inkey signing/release.key -in signing/release.crt -out signing/protected.p12 \
  -passout pass:${s}_p12 2>/dev/null
chmod 644 signing/release.key
# A TLS key that is not for signing.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout tls.key -out tls.crt \
  -days 30 -subj "/CN=dev.local" -addext "extendedKeyUsage=serverAuth" 2>/dev/null
printf '#!/bin/sh\nosslsigncode sign -pkcs12 signing/release.pfx -pass %s_script -in app.exe -out app-signed.exe\n' "$s" > sign.sh

# PuTTY keys (puttygen), a Java keystore with Android's default password (keytool), a binary
# OpenPGP export, and the token files of Gradle, netrc, Terraform, Vault, hub, Yarn, pip and
# Jenkins.
mkdir -p putty android .gradle .terraform.d .config/pip jenkins/secrets
puttygen -q -t ed25519 -o putty/plain.ppk -C "putty@${name}" --new-passphrase /dev/null 2>/dev/null
printf '%s_ppk\n' "$s" > putty/pw
puttygen -q -t ed25519 -o putty/locked.ppk --new-passphrase putty/pw 2>/dev/null
rm putty/pw
keytool -genkeypair -keystore android/upload.jks -storetype JKS -storepass android \
  -keypass android -alias upload -keyalg RSA -keysize 2048 -dname "CN=Acme Upload ${name}" \
  -validity 30 -noprompt >/dev/null 2>&1
printf 'storePassword=%s_ksprops\nkeyPassword=%s_ksprops\nkeyAlias=upload\nstoreFile=upload.jks\n' "$s" "$s" > android/keystore.properties
printf 'signing.keyId=0123ABCD\nsigning.password=%s_gradlesign\nossrhUsername=dev\nossrhPassword=%s_gradle\n' "$s" "$s" > .gradle/gradle.properties
printf 'machine git.corp.example login dev password %s_netrc\n' "$s" > .netrc
chmod 600 .netrc
printf '{"credentials":{"app.terraform.io":{"token":"%s_terraform"}}}\n' "$s" > .terraform.d/credentials.tfrc.json
printf '%s_vault\n' "$s" > .vault-token
printf 'github.com:\n- user: dev\n  oauth_token: %s_hub\n  protocol: https\n' "$s" > .config/hub
printf 'npmAuthToken: %s_yarn\nnpmRegistryServer: "https://registry.yarnpkg.com"\n' "$s" > .yarnrc.yml
printf '[global]\nindex-url = https://dev:%s_pip@pypi.corp.example/simple\n' "$s" > .config/pip/pip.conf
printf '%s_jenkinsadmin\n' "$s" > jenkins/secrets/initialAdminPassword
cat > jenkins/credentials.xml <<CFG
<com.cloudbees.plugins.credentials.SystemCredentialsProvider><domainCredentialsMap><entry><list>
<com.cloudbees.plugins.credentials.impl.UsernamePasswordCredentialsImpl><id>deploy</id>
<username>ci</username><password>{${s}_jenkinscred}</password>
</com.cloudbees.plugins.credentials.impl.UsernamePasswordCredentialsImpl></list></entry>
</domainCredentialsMap></com.cloudbees.plugins.credentials.SystemCredentialsProvider>
CFG

# A key saved under a name that tells nothing, and Maven's master password.
mkdir -p backup
ssh-keygen -q -t ed25519 -N '' -C "old@${name}" -f backup/deploy-material
printf '<settingsSecurity><master>{%s_mavenmaster}</master></settingsSecurity>\n' "$s" > .m2/settings-security.xml

# Noise the walk must skip or survive.
printf 'not a key\n' > .cache/deep/id_rsa
printf -- '-----BEGIN OPENSSH PRIVATE KEY-----\n!!!!\n-----END OPENSSH PRIVATE KEY-----\n' > .ssh/broken_key
printf '{"auths": {' > .docker/broken.json
ln -sf /nonexistent/target .ssh/dangling
