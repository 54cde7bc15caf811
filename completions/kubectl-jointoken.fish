# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_kubectl_jointoken_global_optspecs
    string join \n kubeconfig= context= cluster= user= request-timeout= as= as-group= n/namespace= v/v= h/help V/version
end

function __fish_kubectl_jointoken_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_kubectl_jointoken_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_kubectl_jointoken_using_subcommand
    set -l cmd (__fish_kubectl_jointoken_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_needs_command" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, a list merged as kubectl does, then ~/.kube/config, then the in-cluster service account)' -r -F
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_needs_command" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_needs_command" -l cluster -d 'The kubeconfig cluster to use' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_needs_command" -l user -d 'The kubeconfig user to use' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_needs_command" -l request-timeout -d 'Timeout for a single server request: 0 (none), a bare number of seconds, or a Go duration such as 30s or 1m' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_needs_command" -l as -d 'Username to impersonate for the operation' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_needs_command" -l as-group -d 'Group to impersonate (repeatable)' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_needs_command" -s n -l namespace -d 'Namespace (bootstrap tokens live only in kube-system)' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_needs_command" -s v -l v -d 'Log verbosity on stderr: 0 warnings only, 2 info, 4 debug, 6+ trace (never secrets)' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_needs_command" -s V -l version -d 'Print version'
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_needs_command" -f -a "create" -d 'Create a bootstrap token and print its join command'
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_needs_command" -f -a "list" -d 'List bootstrap tokens (kubeadm\'s columns; secrets masked)'
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_needs_command" -f -a "prune" -d 'Delete expired or superseded bootstrap tokens, safely'
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_needs_command" -f -a "kubeconfig" -d 'Write a bootstrap (or service-account) kubeconfig'
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_needs_command" -f -a "publish" -d 'Publish a token\'s join command to Vault and other sinks'
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_needs_command" -f -a "fetch" -d 'Fetch a published join command from Vault on a node that is not in the cluster yet'
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_needs_command" -f -a "deliver" -d 'Deliver per-node tokens to cloud instances through their tags (AWS)'
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_needs_command" -f -a "completion" -d 'Print shell completion scripts, or install kubectl\'s completion shim'
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_needs_command" -f -a "generate-docs" -d 'Generate man pages and the CLI reference'
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_needs_command" -f -a "schedule" -d 'Install and manage the systemd timer that rotates and publishes tokens'
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_needs_command" -f -a "setup" -d 'Create the RBAC and cluster-info that bootstrap tokens need, as kubeadm does'
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_needs_command" -f -a "verify" -d 'Check, step by step, that a bootstrap token lets a node join'
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_needs_command" -f -a "approve" -d 'Approve kubelet certificate signing requests that pass every check'
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand create" -l token -d 'The token to create (same as the positional TOKEN)' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand create" -l ttl -d 'How long the token is valid, as a Go duration (90s, 2h30m); 0 = never expires (1h for tokens bound to a node, `create --for-node`) [default: 24h]' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand create" -l usages -d 'What the token may be used for (comma-separated): signing, authentication' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand create" -l groups -d 'Extra groups the token authenticates as (comma-separated); each must match system:bootstrappers:[a-z0-9:-]{0,255}[a-z0-9]' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand create" -l description -d 'A human-readable description of the token' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand create" -l print-join-command -d 'Print the full join command (the default); --print-join-command=false prints only the token, as `kubeadm token create` does' -r -f -a "true\t''
false\t''"
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand create" -l certificate-key -d 'Certificate key from `kubeadm init phase upload-certs --upload-certs`: prints the control-plane join command (--control-plane --certificate-key ...)' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand create" -l endpoint -d 'The apiserver endpoint nodes join through, HOST:PORT (default: the server in kube-public/cluster-info when readable, else the kubeconfig\'s server)' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand create" -l dry-run -d 'Must be none, client or server; a bare --dry-run means client' -r -f -a "none\t'Make the change'
client\t'Only compute and print what would change; send nothing that writes'
server\t'Send the write with dryRun=All: the apiserver validates it and persists nothing'"
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand create" -s o -l output -d 'Output format: table, wide, json, yaml, name, jsonpath=TEMPLATE or custom-columns=HEADER:JSONPATH,… (kubectl\'s syntax)' -r -f -a "table\t'Human-readable columns'
wide\t'Columns with extra detail'
json\t'JSON'
yaml\t'YAML'
name\t'kind/name per object'
jsonpath=\t'kubectl\'s JSONPath template, e.g. jsonpath={.items[*].token}'
custom-columns=\t'HEADER:JSONPATH,… columns'"
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand create" -l publish -d 'Publish the new token in the same run: vault, file, secret (comma-separated). One unit: if any sink fails, the token is deleted again (see --keep-on-failure)' -r -f -a "vault\t'Vault (or OpenBao) KV, v1 or v2'
file\t'A local file (atomic, mode 0600)'
secret\t'A Kubernetes Secret'"
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand create" -l signature-wait -d 'Longest wait for the bootstrap signer\'s signature of the new token with --verify' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand create" -l vault-addr -d 'Vault address [env: VAULT_ADDR; default https://127.0.0.1:8200]' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand create" -l vault-token-file -d 'Read the Vault token from this file (e.g. a Vault Agent sink) [else VAULT_TOKEN, $CREDENTIALS_DIRECTORY/vault-token, ~/.vault-token]' -r -F
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand create" -l vault-namespace -d 'Vault Enterprise / OpenBao namespace [env: VAULT_NAMESPACE]' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand create" -l vault-cacert -d 'PEM CA bundle that verifies Vault\'s certificate [env: VAULT_CACERT]' -r -F
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand create" -l vault-capath -d 'Folder of PEM CA certificates [env: VAULT_CAPATH]' -r -F
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand create" -l vault-client-cert -d 'Client certificate (PEM) for TLS [env: VAULT_CLIENT_CERT]' -r -F
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand create" -l vault-client-key -d 'Client key (PEM) for TLS [env: VAULT_CLIENT_KEY]' -r -F
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand create" -l vault-skip-verify -d 'Do not verify Vault\'s certificate (true/false) [env: VAULT_SKIP_VERIFY]' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand create" -l vault-tls-server-name -d 'Name to verify Vault\'s certificate against [env: VAULT_TLS_SERVER_NAME]' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand create" -l vault-timeout -d 'Timeout of each Vault request (Go duration or seconds; 0 = none) [env: VAULT_CLIENT_TIMEOUT; default 60s]' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand create" -l vault-auth -d 'How to log in' -r -f -a "token\t'A token: --vault-token-file, VAULT_TOKEN, $CREDENTIALS_DIRECTORY/vault-token, then ~/.vault-token (a Vault Agent sink file works as --vault-token-file)'
approle\t'AppRole: role id and secret id read from files'
kubernetes\t'Kubernetes: a service-account JWT file'
cert\t'TLS certificate: --vault-client-cert/--vault-client-key (VAULT_CLIENT_CERT/KEY)'"
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand create" -l vault-auth-mount -d 'Mount path of the auth method (default: approle, kubernetes or cert)' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand create" -l vault-role-id-file -d 'AppRole role id file [default: $CREDENTIALS_DIRECTORY/vault-role-id]' -r -F
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand create" -l vault-secret-id-file -d 'AppRole secret id file [default: $CREDENTIALS_DIRECTORY/vault-secret-id]' -r -F
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand create" -l vault-role -d 'Role to log in as (kubernetes: required; cert: optional certificate role name)' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand create" -l vault-jwt-file -d 'Service-account JWT for kubernetes auth' -r -F
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand create" -l mount -d 'KV mount (e.g. secret); default: found from --path through sys/internal/ui/mounts' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand create" -l path -d 'Secret path inside the mount, or mount/path without --mount [env: VAULT_SECRET_PATH]' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand create" -l kv-version -d 'KV version of the mount; default: detected per mount' -r -f -a "1\t'KV v1: one value per path, no versions, no check-and-set'
2\t'KV v2: versioned, check-and-set, custom_metadata'"
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand create" -l file -d 'File to write for the file sink (replaced atomically, mode 0600)' -r -F
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand create" -l file-format -d 'Format of --file' -r -f -a "join\t'The worker join command (the control-plane one when --certificate-key was given); for a service account, its kubeconfig or token (--publish-value)'
env\t'KJT_JOIN_COMMAND=\'…\' lines (shell source, systemd EnvironmentFile=)'
json\t'The record as a JSON object of strings'"
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand create" -l secret-name -d 'Name of the Secret the secret sink writes' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand create" -l secret-namespace -d 'Namespace of that Secret (default: the context\'s namespace)' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand create" -l secret-context -d 'kubeconfig context for that Secret (default: --context, else the current one)' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand create" -l for-node -d 'Create one token bound to this node (repeatable): labelled jointoken.kubectl.io/node=NAME, in group system:bootstrappers:jointoken:node instead of kubeadm\'s auto-approved default group, TTL 1h unless --ttl. `approve` then approves its client CSR only for CN=system:node:NAME, and deletes the token after --max-joins joins' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand create" -l for-nodes-from -d 'As --for-node, for every node name in FILE (one per line; blank lines and # comments are skipped)' -r -F
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand create" -l max-joins -d 'How many joins (approved client CSRs) a bound token allows before it is deleted (default 1)' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand create" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, a list merged as kubectl does, then ~/.kube/config, then the in-cluster service account)' -r -F
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand create" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand create" -l cluster -d 'The kubeconfig cluster to use' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand create" -l user -d 'The kubeconfig user to use' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand create" -l request-timeout -d 'Timeout for a single server request: 0 (none), a bare number of seconds, or a Go duration such as 30s or 1m' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand create" -l as -d 'Username to impersonate for the operation' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand create" -l as-group -d 'Group to impersonate (repeatable)' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand create" -s n -l namespace -d 'Namespace (bootstrap tokens live only in kube-system)' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand create" -s v -l v -d 'Log verbosity on stderr: 0 warnings only, 2 info, 4 debug, 6+ trace (never secrets)' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand create" -l no-headers -d 'Omit the header line of table output'
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand create" -l keep-on-failure -d 'Keep the token when publishing it fails (default: delete it again)'
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand create" -l verify -d 'Before publishing, verify the new token as a joining node would (endpoint, pins, cluster-info signature, authentication, CSR rights); a token that fails is deleted and never published'
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand create" -l no-verify -d 'Do not read back what was written (for write-only Vault policies)'
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand create" -l replace-newer -d 'Replace a published token even when it expires later than ours'
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand create" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand create" -s V -l version -d 'Print version'
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand list" -s l -l selector -d 'Only tokens whose Secret matches this label selector (e.g. app=rotate)' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand list" -s o -l output -d 'Output format: table, wide, json, yaml, name, jsonpath=TEMPLATE or custom-columns=HEADER:JSONPATH,… (kubectl\'s syntax)' -r -f -a "table\t'Human-readable columns'
wide\t'Columns with extra detail'
json\t'JSON'
yaml\t'YAML'
name\t'kind/name per object'
jsonpath=\t'kubectl\'s JSONPath template, e.g. jsonpath={.items[*].token}'
custom-columns=\t'HEADER:JSONPATH,… columns'"
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand list" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, a list merged as kubectl does, then ~/.kube/config, then the in-cluster service account)' -r -F
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand list" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand list" -l cluster -d 'The kubeconfig cluster to use' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand list" -l user -d 'The kubeconfig user to use' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand list" -l request-timeout -d 'Timeout for a single server request: 0 (none), a bare number of seconds, or a Go duration such as 30s or 1m' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand list" -l as -d 'Username to impersonate for the operation' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand list" -l as-group -d 'Group to impersonate (repeatable)' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand list" -s n -l namespace -d 'Namespace (bootstrap tokens live only in kube-system)' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand list" -s v -l v -d 'Log verbosity on stderr: 0 warnings only, 2 info, 4 debug, 6+ trace (never secrets)' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand list" -l show-secret -d 'Show the full token (id.secret) instead of id.****************'
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand list" -l no-headers -d 'Omit the header line of table output'
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand list" -s h -l help -d 'Print help'
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand list" -s V -l version -d 'Print version'
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand prune" -l older-than -d 'Also prune valid tokens created longer ago than this Go duration (e.g. 48h)' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand prune" -l keep -d 'Keep the newest N of the matched tokens; with --keep every token in scope is matched' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand prune" -l description-prefix -d 'Only tokens whose description starts with this prefix' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand prune" -s l -l selector -d 'Only tokens whose Secret matches this label selector' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand prune" -l concurrency -d 'How many deletes run at once' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand prune" -l dry-run -d 'Must be none, client or server; a bare --dry-run means client' -r -f -a "none\t'Make the change'
client\t'Only compute and print what would change; send nothing that writes'
server\t'Send the write with dryRun=All: the apiserver validates it and persists nothing'"
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand prune" -s o -l output -d 'Output format: table, wide, json, yaml, name, jsonpath=TEMPLATE or custom-columns=HEADER:JSONPATH,… (kubectl\'s syntax)' -r -f -a "table\t'Human-readable columns'
wide\t'Columns with extra detail'
json\t'JSON'
yaml\t'YAML'
name\t'kind/name per object'
jsonpath=\t'kubectl\'s JSONPath template, e.g. jsonpath={.items[*].token}'
custom-columns=\t'HEADER:JSONPATH,… columns'"
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand prune" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, a list merged as kubectl does, then ~/.kube/config, then the in-cluster service account)' -r -F
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand prune" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand prune" -l cluster -d 'The kubeconfig cluster to use' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand prune" -l user -d 'The kubeconfig user to use' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand prune" -l request-timeout -d 'Timeout for a single server request: 0 (none), a bare number of seconds, or a Go duration such as 30s or 1m' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand prune" -l as -d 'Username to impersonate for the operation' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand prune" -l as-group -d 'Group to impersonate (repeatable)' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand prune" -s n -l namespace -d 'Namespace (bootstrap tokens live only in kube-system)' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand prune" -s v -l v -d 'Log verbosity on stderr: 0 warnings only, 2 info, 4 debug, 6+ trace (never secrets)' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand prune" -l include-never-expiring -d 'Allow pruning tokens that never expire'
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand prune" -l force -d 'Also delete tokens that own other objects (they will be garbage-collected)'
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand prune" -l consumed -d 'Prune tokens bound to a node whose joins are used up (what an approver that died between counting the last join and deleting the token leaves behind)'
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand prune" -l no-headers -d 'Omit the header line of table output'
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand prune" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand prune" -s V -l version -d 'Print version'
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand kubeconfig" -l token -d 'Use this existing bootstrap token (id.secret)' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand kubeconfig" -l ttl -d 'How long the token is valid, as a Go duration (90s, 2h30m); 0 = never expires (1h for tokens bound to a node, `create --for-node`) [default: 24h]' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand kubeconfig" -l usages -d 'What the token may be used for (comma-separated): signing, authentication' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand kubeconfig" -l groups -d 'Extra groups the token authenticates as (comma-separated); each must match system:bootstrappers:[a-z0-9:-]{0,255}[a-z0-9]' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand kubeconfig" -l description -d 'A human-readable description of the token' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand kubeconfig" -l service-account -d 'Make a service-account kubeconfig for this service account (namespace from -n, else the context\'s)' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand kubeconfig" -l duration -d 'Lifetime of the service-account token (Go duration; the apiserver\'s minimum is 10m)' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand kubeconfig" -l audience -d 'Audience of the service-account token (repeatable; default: the apiserver\'s)' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand kubeconfig" -l bound-object-kind -d 'Bind the service-account token to an object of this kind (Pod, Secret, Node)' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand kubeconfig" -l bound-object-name -d 'Name of the bound object' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand kubeconfig" -l bound-object-uid -d 'UID of the bound object' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand kubeconfig" -l server -d 'API server URL to put in the kubeconfig (default: https:// + the join endpoint)' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand kubeconfig" -l endpoint -d 'The apiserver endpoint nodes join through, HOST:PORT (default: the server in kube-public/cluster-info when readable, else the kubeconfig\'s server)' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand kubeconfig" -l ca-file -d 'PEM CA bundle to embed (default: the current context\'s CA)' -r -F
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand kubeconfig" -l output-file -d 'Write to this file (atomically, mode 0600) instead of stdout' -r -F
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand kubeconfig" -l dry-run -d 'Must be none, client or server; a bare --dry-run means client' -r -f -a "none\t'Make the change'
client\t'Only compute and print what would change; send nothing that writes'
server\t'Send the write with dryRun=All: the apiserver validates it and persists nothing'"
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand kubeconfig" -l publish -d 'Publish the service account\'s credential: vault, file, secret (comma-separated; the sink flags are create --publish\'s). Stdout then shows one line per sink, not the secret' -r -f -a "vault\t'Vault (or OpenBao) KV, v1 or v2'
file\t'A local file (atomic, mode 0600)'
secret\t'A Kubernetes Secret'"
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand kubeconfig" -l publish-value -d 'What the published record holds besides its description: the kubeconfig (the default) or the bare token' -r -f -a "kubeconfig\t'A kubeconfig (server, CA, token; namespace set): `kubectl --kubeconfig` reads it'
token\t'The bare token, for tools that take a bearer token'"
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand kubeconfig" -l format -d 'Print the service account\'s record in a CI format: github-actions (::add-mask:: first, outputs to $GITHUB_OUTPUT) or gitlab-dotenv (needs --publish-value token)' -r -f -a "github-actions\t'GitHub Actions: ::add-mask:: for the token first, outputs to $GITHUB_OUTPUT'
gitlab-dotenv\t'A GitLab artifacts:reports:dotenv file (KJT_TOKEN=…)'"
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand kubeconfig" -l renew-before -d 'Renew only when due: request and publish a new token only if a sink lacks a valid record of this service account that outlives this margin (for a timer or CronJob; must be shorter than --duration)' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand kubeconfig" -l vault-addr -d 'Vault address [env: VAULT_ADDR; default https://127.0.0.1:8200]' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand kubeconfig" -l vault-token-file -d 'Read the Vault token from this file (e.g. a Vault Agent sink) [else VAULT_TOKEN, $CREDENTIALS_DIRECTORY/vault-token, ~/.vault-token]' -r -F
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand kubeconfig" -l vault-namespace -d 'Vault Enterprise / OpenBao namespace [env: VAULT_NAMESPACE]' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand kubeconfig" -l vault-cacert -d 'PEM CA bundle that verifies Vault\'s certificate [env: VAULT_CACERT]' -r -F
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand kubeconfig" -l vault-capath -d 'Folder of PEM CA certificates [env: VAULT_CAPATH]' -r -F
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand kubeconfig" -l vault-client-cert -d 'Client certificate (PEM) for TLS [env: VAULT_CLIENT_CERT]' -r -F
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand kubeconfig" -l vault-client-key -d 'Client key (PEM) for TLS [env: VAULT_CLIENT_KEY]' -r -F
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand kubeconfig" -l vault-skip-verify -d 'Do not verify Vault\'s certificate (true/false) [env: VAULT_SKIP_VERIFY]' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand kubeconfig" -l vault-tls-server-name -d 'Name to verify Vault\'s certificate against [env: VAULT_TLS_SERVER_NAME]' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand kubeconfig" -l vault-timeout -d 'Timeout of each Vault request (Go duration or seconds; 0 = none) [env: VAULT_CLIENT_TIMEOUT; default 60s]' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand kubeconfig" -l vault-auth -d 'How to log in' -r -f -a "token\t'A token: --vault-token-file, VAULT_TOKEN, $CREDENTIALS_DIRECTORY/vault-token, then ~/.vault-token (a Vault Agent sink file works as --vault-token-file)'
approle\t'AppRole: role id and secret id read from files'
kubernetes\t'Kubernetes: a service-account JWT file'
cert\t'TLS certificate: --vault-client-cert/--vault-client-key (VAULT_CLIENT_CERT/KEY)'"
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand kubeconfig" -l vault-auth-mount -d 'Mount path of the auth method (default: approle, kubernetes or cert)' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand kubeconfig" -l vault-role-id-file -d 'AppRole role id file [default: $CREDENTIALS_DIRECTORY/vault-role-id]' -r -F
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand kubeconfig" -l vault-secret-id-file -d 'AppRole secret id file [default: $CREDENTIALS_DIRECTORY/vault-secret-id]' -r -F
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand kubeconfig" -l vault-role -d 'Role to log in as (kubernetes: required; cert: optional certificate role name)' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand kubeconfig" -l vault-jwt-file -d 'Service-account JWT for kubernetes auth' -r -F
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand kubeconfig" -l mount -d 'KV mount (e.g. secret); default: found from --path through sys/internal/ui/mounts' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand kubeconfig" -l path -d 'Secret path inside the mount, or mount/path without --mount [env: VAULT_SECRET_PATH]' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand kubeconfig" -l kv-version -d 'KV version of the mount; default: detected per mount' -r -f -a "1\t'KV v1: one value per path, no versions, no check-and-set'
2\t'KV v2: versioned, check-and-set, custom_metadata'"
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand kubeconfig" -l file -d 'File to write for the file sink (replaced atomically, mode 0600)' -r -F
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand kubeconfig" -l file-format -d 'Format of --file' -r -f -a "join\t'The worker join command (the control-plane one when --certificate-key was given); for a service account, its kubeconfig or token (--publish-value)'
env\t'KJT_JOIN_COMMAND=\'…\' lines (shell source, systemd EnvironmentFile=)'
json\t'The record as a JSON object of strings'"
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand kubeconfig" -l secret-name -d 'Name of the Secret the secret sink writes' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand kubeconfig" -l secret-namespace -d 'Namespace of that Secret (default: the context\'s namespace)' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand kubeconfig" -l secret-context -d 'kubeconfig context for that Secret (default: --context, else the current one)' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand kubeconfig" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, a list merged as kubectl does, then ~/.kube/config, then the in-cluster service account)' -r -F
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand kubeconfig" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand kubeconfig" -l cluster -d 'The kubeconfig cluster to use' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand kubeconfig" -l user -d 'The kubeconfig user to use' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand kubeconfig" -l request-timeout -d 'Timeout for a single server request: 0 (none), a bare number of seconds, or a Go duration such as 30s or 1m' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand kubeconfig" -l as -d 'Username to impersonate for the operation' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand kubeconfig" -l as-group -d 'Group to impersonate (repeatable)' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand kubeconfig" -s n -l namespace -d 'Namespace (bootstrap tokens live only in kube-system)' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand kubeconfig" -s v -l v -d 'Log verbosity on stderr: 0 warnings only, 2 info, 4 debug, 6+ trace (never secrets)' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand kubeconfig" -l create -d 'Create a fresh bootstrap token for the kubeconfig (takes create\'s --ttl, --usages, --groups, --description)'
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand kubeconfig" -l no-check -d 'Do not check that --token exists in the cluster and is valid (for a kubeconfig meant for another cluster; the check is also skipped when --server names another server)'
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand kubeconfig" -l force -d 'Replace --output-file if it exists'
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand kubeconfig" -l no-verify -d 'Do not read back what was written (for write-only Vault policies)'
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand kubeconfig" -l replace-newer -d 'Replace a published token even when it expires later than ours'
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand kubeconfig" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand kubeconfig" -s V -l version -d 'Print version'
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand publish" -l to -d 'Where to publish: vault, file, secret (comma-separated; several in one run)' -r -f -a "vault\t'Vault (or OpenBao) KV, v1 or v2'
file\t'A local file (atomic, mode 0600)'
secret\t'A Kubernetes Secret'"
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand publish" -l description -d 'Pick the newest valid token with exactly this description' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand publish" -s l -l selector -d 'Pick the newest valid token whose Secret matches this label selector' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand publish" -l certificate-key -d 'Certificate key from `kubeadm init phase upload-certs --upload-certs`: adds control_plane_join_command' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand publish" -l format -d 'What to print on stdout' -r -f -a "table\t'One line per sink: SINK, RESULT, DETAIL (no secret)'
json\t'The per-sink results as JSON (no secret)'
github-actions\t'GitHub Actions: ::add-mask:: lines first, then outputs (to $GITHUB_OUTPUT when set)'
gitlab-dotenv\t'A GitLab artifacts:reports:dotenv file (KJT_JOIN_COMMAND=…)'"
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand publish" -l endpoint -d 'The apiserver endpoint nodes join through, HOST:PORT (default: the server in kube-public/cluster-info when readable, else the kubeconfig\'s server)' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand publish" -l vault-addr -d 'Vault address [env: VAULT_ADDR; default https://127.0.0.1:8200]' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand publish" -l vault-token-file -d 'Read the Vault token from this file (e.g. a Vault Agent sink) [else VAULT_TOKEN, $CREDENTIALS_DIRECTORY/vault-token, ~/.vault-token]' -r -F
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand publish" -l vault-namespace -d 'Vault Enterprise / OpenBao namespace [env: VAULT_NAMESPACE]' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand publish" -l vault-cacert -d 'PEM CA bundle that verifies Vault\'s certificate [env: VAULT_CACERT]' -r -F
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand publish" -l vault-capath -d 'Folder of PEM CA certificates [env: VAULT_CAPATH]' -r -F
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand publish" -l vault-client-cert -d 'Client certificate (PEM) for TLS [env: VAULT_CLIENT_CERT]' -r -F
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand publish" -l vault-client-key -d 'Client key (PEM) for TLS [env: VAULT_CLIENT_KEY]' -r -F
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand publish" -l vault-skip-verify -d 'Do not verify Vault\'s certificate (true/false) [env: VAULT_SKIP_VERIFY]' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand publish" -l vault-tls-server-name -d 'Name to verify Vault\'s certificate against [env: VAULT_TLS_SERVER_NAME]' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand publish" -l vault-timeout -d 'Timeout of each Vault request (Go duration or seconds; 0 = none) [env: VAULT_CLIENT_TIMEOUT; default 60s]' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand publish" -l vault-auth -d 'How to log in' -r -f -a "token\t'A token: --vault-token-file, VAULT_TOKEN, $CREDENTIALS_DIRECTORY/vault-token, then ~/.vault-token (a Vault Agent sink file works as --vault-token-file)'
approle\t'AppRole: role id and secret id read from files'
kubernetes\t'Kubernetes: a service-account JWT file'
cert\t'TLS certificate: --vault-client-cert/--vault-client-key (VAULT_CLIENT_CERT/KEY)'"
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand publish" -l vault-auth-mount -d 'Mount path of the auth method (default: approle, kubernetes or cert)' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand publish" -l vault-role-id-file -d 'AppRole role id file [default: $CREDENTIALS_DIRECTORY/vault-role-id]' -r -F
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand publish" -l vault-secret-id-file -d 'AppRole secret id file [default: $CREDENTIALS_DIRECTORY/vault-secret-id]' -r -F
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand publish" -l vault-role -d 'Role to log in as (kubernetes: required; cert: optional certificate role name)' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand publish" -l vault-jwt-file -d 'Service-account JWT for kubernetes auth' -r -F
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand publish" -l mount -d 'KV mount (e.g. secret); default: found from --path through sys/internal/ui/mounts' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand publish" -l path -d 'Secret path inside the mount, or mount/path without --mount [env: VAULT_SECRET_PATH]' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand publish" -l kv-version -d 'KV version of the mount; default: detected per mount' -r -f -a "1\t'KV v1: one value per path, no versions, no check-and-set'
2\t'KV v2: versioned, check-and-set, custom_metadata'"
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand publish" -l file -d 'File to write for the file sink (replaced atomically, mode 0600)' -r -F
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand publish" -l file-format -d 'Format of --file' -r -f -a "join\t'The worker join command (the control-plane one when --certificate-key was given); for a service account, its kubeconfig or token (--publish-value)'
env\t'KJT_JOIN_COMMAND=\'…\' lines (shell source, systemd EnvironmentFile=)'
json\t'The record as a JSON object of strings'"
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand publish" -l secret-name -d 'Name of the Secret the secret sink writes' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand publish" -l secret-namespace -d 'Namespace of that Secret (default: the context\'s namespace)' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand publish" -l secret-context -d 'kubeconfig context for that Secret (default: --context, else the current one)' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand publish" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, a list merged as kubectl does, then ~/.kube/config, then the in-cluster service account)' -r -F
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand publish" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand publish" -l cluster -d 'The kubeconfig cluster to use' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand publish" -l user -d 'The kubeconfig user to use' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand publish" -l request-timeout -d 'Timeout for a single server request: 0 (none), a bare number of seconds, or a Go duration such as 30s or 1m' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand publish" -l as -d 'Username to impersonate for the operation' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand publish" -l as-group -d 'Group to impersonate (repeatable)' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand publish" -s n -l namespace -d 'Namespace (bootstrap tokens live only in kube-system)' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand publish" -s v -l v -d 'Log verbosity on stderr: 0 warnings only, 2 info, 4 debug, 6+ trace (never secrets)' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand publish" -l no-verify -d 'Do not read back what was written (for write-only Vault policies)'
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand publish" -l replace-newer -d 'Replace a published token even when it expires later than ours'
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand publish" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand publish" -s V -l version -d 'Print version'
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand fetch" -l from -d 'Where the record is published' -r -f -a "vault\t'Vault or OpenBao KV (v1 or v2)'
aws-tag\t'This EC2 instance\'s own tag, written by `deliver aws` (IMDSv2 tells the instance id and region); the tag is removed once the kubeconfig is written'"
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand fetch" -l vault-addr -d 'Vault address [env: VAULT_ADDR; default https://127.0.0.1:8200]' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand fetch" -l vault-token-file -d 'Read the Vault token from this file (e.g. a Vault Agent sink) [else VAULT_TOKEN, $CREDENTIALS_DIRECTORY/vault-token, ~/.vault-token]' -r -F
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand fetch" -l vault-namespace -d 'Vault Enterprise / OpenBao namespace [env: VAULT_NAMESPACE]' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand fetch" -l vault-cacert -d 'PEM CA bundle that verifies Vault\'s certificate [env: VAULT_CACERT]' -r -F
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand fetch" -l vault-capath -d 'Folder of PEM CA certificates [env: VAULT_CAPATH]' -r -F
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand fetch" -l vault-client-cert -d 'Client certificate (PEM) for TLS [env: VAULT_CLIENT_CERT]' -r -F
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand fetch" -l vault-client-key -d 'Client key (PEM) for TLS [env: VAULT_CLIENT_KEY]' -r -F
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand fetch" -l vault-skip-verify -d 'Do not verify Vault\'s certificate (true/false) [env: VAULT_SKIP_VERIFY]' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand fetch" -l vault-tls-server-name -d 'Name to verify Vault\'s certificate against [env: VAULT_TLS_SERVER_NAME]' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand fetch" -l vault-timeout -d 'Timeout of each Vault request (Go duration or seconds; 0 = none) [env: VAULT_CLIENT_TIMEOUT; default 60s]' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand fetch" -l vault-auth -d 'How to log in' -r -f -a "token\t'A token: --vault-token-file, VAULT_TOKEN, $CREDENTIALS_DIRECTORY/vault-token, then ~/.vault-token (a Vault Agent sink file works as --vault-token-file)'
approle\t'AppRole: role id and secret id read from files'
kubernetes\t'Kubernetes: a service-account JWT file'
cert\t'TLS certificate: --vault-client-cert/--vault-client-key (VAULT_CLIENT_CERT/KEY)'"
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand fetch" -l vault-auth-mount -d 'Mount path of the auth method (default: approle, kubernetes or cert)' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand fetch" -l vault-role-id-file -d 'AppRole role id file [default: $CREDENTIALS_DIRECTORY/vault-role-id]' -r -F
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand fetch" -l vault-secret-id-file -d 'AppRole secret id file [default: $CREDENTIALS_DIRECTORY/vault-secret-id]' -r -F
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand fetch" -l vault-role -d 'Role to log in as (kubernetes: required; cert: optional certificate role name)' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand fetch" -l vault-jwt-file -d 'Service-account JWT for kubernetes auth' -r -F
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand fetch" -l mount -d 'KV mount (e.g. secret); default: found from --path through sys/internal/ui/mounts' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand fetch" -l path -d 'Secret path inside the mount, or mount/path without --mount [env: VAULT_SECRET_PATH]' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand fetch" -l kv-version -d 'KV version of the mount; default: detected per mount' -r -f -a "1\t'KV v1: one value per path, no versions, no check-and-set'
2\t'KV v2: versioned, check-and-set, custom_metadata'"
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand fetch" -s o -l output -d 'Output format' -r -f -a "join\t'The join command (the control-plane one with --control-plane)'
json\t'The record as JSON'"
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand fetch" -l kubeconfig-out -d 'Write a bootstrap kubeconfig (kubelet --bootstrap-kubeconfig) here, mode 0600, instead of printing' -r -F
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand fetch" -l tag-key -d 'The instance tag to read with --from aws-tag' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand fetch" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, a list merged as kubectl does, then ~/.kube/config, then the in-cluster service account)' -r -F
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand fetch" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand fetch" -l cluster -d 'The kubeconfig cluster to use' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand fetch" -l user -d 'The kubeconfig user to use' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand fetch" -l request-timeout -d 'Timeout for a single server request: 0 (none), a bare number of seconds, or a Go duration such as 30s or 1m' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand fetch" -l as -d 'Username to impersonate for the operation' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand fetch" -l as-group -d 'Group to impersonate (repeatable)' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand fetch" -s n -l namespace -d 'Namespace (bootstrap tokens live only in kube-system)' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand fetch" -s v -l v -d 'Log verbosity on stderr: 0 warnings only, 2 info, 4 debug, 6+ trace (never secrets)' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand fetch" -l control-plane -d 'Print the control-plane join command (published with --certificate-key)'
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand fetch" -l force -d 'Replace --kubeconfig-out if it exists'
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand fetch" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand fetch" -s V -l version -d 'Print version'
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand deliver; and not __fish_seen_subcommand_from aws install" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, a list merged as kubectl does, then ~/.kube/config, then the in-cluster service account)' -r -F
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand deliver; and not __fish_seen_subcommand_from aws install" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand deliver; and not __fish_seen_subcommand_from aws install" -l cluster -d 'The kubeconfig cluster to use' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand deliver; and not __fish_seen_subcommand_from aws install" -l user -d 'The kubeconfig user to use' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand deliver; and not __fish_seen_subcommand_from aws install" -l request-timeout -d 'Timeout for a single server request: 0 (none), a bare number of seconds, or a Go duration such as 30s or 1m' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand deliver; and not __fish_seen_subcommand_from aws install" -l as -d 'Username to impersonate for the operation' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand deliver; and not __fish_seen_subcommand_from aws install" -l as-group -d 'Group to impersonate (repeatable)' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand deliver; and not __fish_seen_subcommand_from aws install" -s n -l namespace -d 'Namespace (bootstrap tokens live only in kube-system)' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand deliver; and not __fish_seen_subcommand_from aws install" -s v -l v -d 'Log verbosity on stderr: 0 warnings only, 2 info, 4 debug, 6+ trace (never secrets)' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand deliver; and not __fish_seen_subcommand_from aws install" -s h -l help -d 'Print help'
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand deliver; and not __fish_seen_subcommand_from aws install" -s V -l version -d 'Print version'
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand deliver; and not __fish_seen_subcommand_from aws install" -f -a "aws" -d 'Tag every InService instance of Auto Scaling groups with a token bound to its node'
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand deliver; and not __fish_seen_subcommand_from aws install" -f -a "install" -d 'Print the in-cluster Deployment (with its RBAC) that runs `deliver aws --watch`'
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand deliver; and __fish_seen_subcommand_from aws" -l asg -d 'Auto Scaling group names (repeatable or comma-separated)' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand deliver; and __fish_seen_subcommand_from aws" -l asg-filter -d 'Select groups by tag instead: tag:KEY=VALUE (repeatable; all must match)' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand deliver; and __fish_seen_subcommand_from aws" -l tag-key -d 'The instance tag holding the token record' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand deliver; and __fish_seen_subcommand_from aws" -l node-name -d 'What the node registers as: private-dns-name, instance-id or tag:KEY (e.g. tag:Name)' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand deliver; and __fish_seen_subcommand_from aws" -l interval -d 'Time between passes with --watch (Go duration)' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand deliver; and __fish_seen_subcommand_from aws" -l name -d 'The delivery\'s name: its tokens are labelled jointoken.kubectl.io/deliver=NAME, and a pass only deletes tokens of its own name' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand deliver; and __fish_seen_subcommand_from aws" -l ttl -d 'Lifetime of each token (Go duration)' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand deliver; and __fish_seen_subcommand_from aws" -l max-joins -d 'Joins each token allows before `approve` deletes it' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand deliver; and __fish_seen_subcommand_from aws" -l region -d 'AWS region (default: the standard chain: AWS_REGION, profile, instance metadata)' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand deliver; and __fish_seen_subcommand_from aws" -l lease-name -d 'Lease name for --watch (kube-system)' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand deliver; and __fish_seen_subcommand_from aws" -l endpoint -d 'The apiserver endpoint nodes join through, HOST:PORT (default: the server in kube-public/cluster-info when readable, else the kubeconfig\'s server)' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand deliver; and __fish_seen_subcommand_from aws" -l dry-run -d 'Must be none, client or server; a bare --dry-run means client' -r -f -a "none\t'Make the change'
client\t'Only compute and print what would change; send nothing that writes'
server\t'Send the write with dryRun=All: the apiserver validates it and persists nothing'"
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand deliver; and __fish_seen_subcommand_from aws" -s o -l output -d 'Output format: table, wide, json, yaml, name, jsonpath=TEMPLATE or custom-columns=HEADER:JSONPATH,… (kubectl\'s syntax)' -r -f -a "table\t'Human-readable columns'
wide\t'Columns with extra detail'
json\t'JSON'
yaml\t'YAML'
name\t'kind/name per object'
jsonpath=\t'kubectl\'s JSONPath template, e.g. jsonpath={.items[*].token}'
custom-columns=\t'HEADER:JSONPATH,… columns'"
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand deliver; and __fish_seen_subcommand_from aws" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, a list merged as kubectl does, then ~/.kube/config, then the in-cluster service account)' -r -F
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand deliver; and __fish_seen_subcommand_from aws" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand deliver; and __fish_seen_subcommand_from aws" -l cluster -d 'The kubeconfig cluster to use' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand deliver; and __fish_seen_subcommand_from aws" -l user -d 'The kubeconfig user to use' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand deliver; and __fish_seen_subcommand_from aws" -l request-timeout -d 'Timeout for a single server request: 0 (none), a bare number of seconds, or a Go duration such as 30s or 1m' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand deliver; and __fish_seen_subcommand_from aws" -l as -d 'Username to impersonate for the operation' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand deliver; and __fish_seen_subcommand_from aws" -l as-group -d 'Group to impersonate (repeatable)' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand deliver; and __fish_seen_subcommand_from aws" -s n -l namespace -d 'Namespace (bootstrap tokens live only in kube-system)' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand deliver; and __fish_seen_subcommand_from aws" -s v -l v -d 'Log verbosity on stderr: 0 warnings only, 2 info, 4 debug, 6+ trace (never secrets)' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand deliver; and __fish_seen_subcommand_from aws" -l once -d 'One pass, then exit (the default)'
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand deliver; and __fish_seen_subcommand_from aws" -l watch -d 'Pass again every --interval, holding a Lease so only one of several replicas delivers'
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand deliver; and __fish_seen_subcommand_from aws" -l no-headers -d 'Omit the header line of table output'
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand deliver; and __fish_seen_subcommand_from aws" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand deliver; and __fish_seen_subcommand_from aws" -s V -l version -d 'Print version'
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand deliver; and __fish_seen_subcommand_from install" -l image -d 'An image with kubectl-jointoken (built with the aws feature) on its PATH' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand deliver; and __fish_seen_subcommand_from install" -l replicas -d 'Replicas (one delivers at a time; the others take over through the Lease)' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand deliver; and __fish_seen_subcommand_from install" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, a list merged as kubectl does, then ~/.kube/config, then the in-cluster service account)' -r -F
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand deliver; and __fish_seen_subcommand_from install" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand deliver; and __fish_seen_subcommand_from install" -l cluster -d 'The kubeconfig cluster to use' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand deliver; and __fish_seen_subcommand_from install" -l user -d 'The kubeconfig user to use' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand deliver; and __fish_seen_subcommand_from install" -l request-timeout -d 'Timeout for a single server request: 0 (none), a bare number of seconds, or a Go duration such as 30s or 1m' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand deliver; and __fish_seen_subcommand_from install" -l as -d 'Username to impersonate for the operation' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand deliver; and __fish_seen_subcommand_from install" -l as-group -d 'Group to impersonate (repeatable)' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand deliver; and __fish_seen_subcommand_from install" -s n -l namespace -d 'Namespace (bootstrap tokens live only in kube-system)' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand deliver; and __fish_seen_subcommand_from install" -s v -l v -d 'Log verbosity on stderr: 0 warnings only, 2 info, 4 debug, 6+ trace (never secrets)' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand deliver; and __fish_seen_subcommand_from install" -l in-cluster -d 'Render the in-cluster form (a Deployment in kube-system); the only form today'
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand deliver; and __fish_seen_subcommand_from install" -s h -l help -d 'Print help'
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand deliver; and __fish_seen_subcommand_from install" -s V -l version -d 'Print version'
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand completion" -l dir -d 'With `kubectl`: the directory for the links (default: the installed binary\'s directory, or krew\'s bin directory)' -r -f -a "(__fish_complete_directories)"
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand completion" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, a list merged as kubectl does, then ~/.kube/config, then the in-cluster service account)' -r -F
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand completion" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand completion" -l cluster -d 'The kubeconfig cluster to use' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand completion" -l user -d 'The kubeconfig user to use' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand completion" -l request-timeout -d 'Timeout for a single server request: 0 (none), a bare number of seconds, or a Go duration such as 30s or 1m' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand completion" -l as -d 'Username to impersonate for the operation' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand completion" -l as-group -d 'Group to impersonate (repeatable)' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand completion" -s n -l namespace -d 'Namespace (bootstrap tokens live only in kube-system)' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand completion" -s v -l v -d 'Log verbosity on stderr: 0 warnings only, 2 info, 4 debug, 6+ trace (never secrets)' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand completion" -l install -d 'With `kubectl`: create the links instead of printing the commands that would'
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand completion" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand completion" -s V -l version -d 'Print version'
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand generate-docs" -l out-dir -d 'Root to write under: <DIR>/docs/man/, <DIR>/docs/CLI.md and <DIR>/completions/' -r -f -a "(__fish_complete_directories)"
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand generate-docs" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, a list merged as kubectl does, then ~/.kube/config, then the in-cluster service account)' -r -F
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand generate-docs" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand generate-docs" -l cluster -d 'The kubeconfig cluster to use' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand generate-docs" -l user -d 'The kubeconfig user to use' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand generate-docs" -l request-timeout -d 'Timeout for a single server request: 0 (none), a bare number of seconds, or a Go duration such as 30s or 1m' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand generate-docs" -l as -d 'Username to impersonate for the operation' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand generate-docs" -l as-group -d 'Group to impersonate (repeatable)' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand generate-docs" -s n -l namespace -d 'Namespace (bootstrap tokens live only in kube-system)' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand generate-docs" -s v -l v -d 'Log verbosity on stderr: 0 warnings only, 2 info, 4 debug, 6+ trace (never secrets)' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand generate-docs" -s h -l help -d 'Print help'
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand generate-docs" -s V -l version -d 'Print version'
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand schedule; and not __fish_seen_subcommand_from run render install status uninstall" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, a list merged as kubectl does, then ~/.kube/config, then the in-cluster service account)' -r -F
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand schedule; and not __fish_seen_subcommand_from run render install status uninstall" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand schedule; and not __fish_seen_subcommand_from run render install status uninstall" -l cluster -d 'The kubeconfig cluster to use' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand schedule; and not __fish_seen_subcommand_from run render install status uninstall" -l user -d 'The kubeconfig user to use' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand schedule; and not __fish_seen_subcommand_from run render install status uninstall" -l request-timeout -d 'Timeout for a single server request: 0 (none), a bare number of seconds, or a Go duration such as 30s or 1m' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand schedule; and not __fish_seen_subcommand_from run render install status uninstall" -l as -d 'Username to impersonate for the operation' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand schedule; and not __fish_seen_subcommand_from run render install status uninstall" -l as-group -d 'Group to impersonate (repeatable)' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand schedule; and not __fish_seen_subcommand_from run render install status uninstall" -s n -l namespace -d 'Namespace (bootstrap tokens live only in kube-system)' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand schedule; and not __fish_seen_subcommand_from run render install status uninstall" -s v -l v -d 'Log verbosity on stderr: 0 warnings only, 2 info, 4 debug, 6+ trace (never secrets)' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand schedule; and not __fish_seen_subcommand_from run render install status uninstall" -s h -l help -d 'Print help'
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand schedule; and not __fish_seen_subcommand_from run render install status uninstall" -s V -l version -d 'Print version'
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand schedule; and not __fish_seen_subcommand_from run render install status uninstall" -f -a "run" -d 'Run one rotation now (what the timer starts): ensure a published token with at least --min-remaining validity exists, else create, publish, and prune superseded ones'
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand schedule; and not __fish_seen_subcommand_from run render install status uninstall" -f -a "render" -d 'Print the service, timer and config file `install` would write'
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand schedule; and not __fish_seen_subcommand_from run render install status uninstall" -f -a "install" -d 'Write the units and config, then daemon-reload and enable --now the timer'
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand schedule; and not __fish_seen_subcommand_from run render install status uninstall" -f -a "status" -d 'Show the timer\'s last and next run and the last result (systemctl show)'
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand schedule; and not __fish_seen_subcommand_from run render install status uninstall" -f -a "uninstall" -d 'Disable the timer and remove units and config (tokens are kept)'
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand schedule; and __fish_seen_subcommand_from run" -l config -d 'Config file: a YAML map of these flags\' long names to values; flags on the command line win. Default /etc/kubectl-jointoken/config.yaml when it exists' -r -F
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand schedule; and __fish_seen_subcommand_from run" -l every -d 'How often rotation runs (sets the default --min-remaining)' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand schedule; and __fish_seen_subcommand_from run" -l min-remaining -d 'Rotate when the current token has less validity left than this (default: ttl − every + 1h, so each timer tick rotates and tokens overlap)' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand schedule; and __fish_seen_subcommand_from run" -l keep-previous -d 'How many superseded (still valid, published) tokens to keep for nodes mid-join' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand schedule; and __fish_seen_subcommand_from run" -l instance -d 'Name of this rotation: its tokens carry the label jointoken.kubectl.io/rotation=NAME and only those are reused or pruned' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand schedule; and __fish_seen_subcommand_from run" -l lease-name -d 'Lease in kube-system that makes exactly one node rotate (default: kubectl-jointoken-rotate-<instance>)' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand schedule; and __fish_seen_subcommand_from run" -l lease-seconds -d 'Lease duration in seconds (a crashed holder\'s lease expires after this)' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand schedule; and __fish_seen_subcommand_from run" -l identity -d 'This node\'s identity in the lease (default: hostname)' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand schedule; and __fish_seen_subcommand_from run" -l ttl -d 'How long the token is valid, as a Go duration (90s, 2h30m); 0 = never expires (1h for tokens bound to a node, `create --for-node`) [default: 24h]' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand schedule; and __fish_seen_subcommand_from run" -l usages -d 'What the token may be used for (comma-separated): signing, authentication' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand schedule; and __fish_seen_subcommand_from run" -l groups -d 'Extra groups the token authenticates as (comma-separated); each must match system:bootstrappers:[a-z0-9:-]{0,255}[a-z0-9]' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand schedule; and __fish_seen_subcommand_from run" -l description -d 'A human-readable description of the token' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand schedule; and __fish_seen_subcommand_from run" -l endpoint -d 'The apiserver endpoint nodes join through, HOST:PORT (default: the server in kube-public/cluster-info when readable, else the kubeconfig\'s server)' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand schedule; and __fish_seen_subcommand_from run" -l publish -d 'Where to publish (comma-separated): vault, file, secret' -r -f -a "vault\t'Vault (or OpenBao) KV, v1 or v2'
file\t'A local file (atomic, mode 0600)'
secret\t'A Kubernetes Secret'"
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand schedule; and __fish_seen_subcommand_from run" -l vault-addr -d 'Vault address [env: VAULT_ADDR; default https://127.0.0.1:8200]' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand schedule; and __fish_seen_subcommand_from run" -l vault-token-file -d 'Read the Vault token from this file (e.g. a Vault Agent sink) [else VAULT_TOKEN, $CREDENTIALS_DIRECTORY/vault-token, ~/.vault-token]' -r -F
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand schedule; and __fish_seen_subcommand_from run" -l vault-namespace -d 'Vault Enterprise / OpenBao namespace [env: VAULT_NAMESPACE]' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand schedule; and __fish_seen_subcommand_from run" -l vault-cacert -d 'PEM CA bundle that verifies Vault\'s certificate [env: VAULT_CACERT]' -r -F
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand schedule; and __fish_seen_subcommand_from run" -l vault-capath -d 'Folder of PEM CA certificates [env: VAULT_CAPATH]' -r -F
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand schedule; and __fish_seen_subcommand_from run" -l vault-client-cert -d 'Client certificate (PEM) for TLS [env: VAULT_CLIENT_CERT]' -r -F
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand schedule; and __fish_seen_subcommand_from run" -l vault-client-key -d 'Client key (PEM) for TLS [env: VAULT_CLIENT_KEY]' -r -F
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand schedule; and __fish_seen_subcommand_from run" -l vault-skip-verify -d 'Do not verify Vault\'s certificate (true/false) [env: VAULT_SKIP_VERIFY]' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand schedule; and __fish_seen_subcommand_from run" -l vault-tls-server-name -d 'Name to verify Vault\'s certificate against [env: VAULT_TLS_SERVER_NAME]' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand schedule; and __fish_seen_subcommand_from run" -l vault-timeout -d 'Timeout of each Vault request (Go duration or seconds; 0 = none) [env: VAULT_CLIENT_TIMEOUT; default 60s]' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand schedule; and __fish_seen_subcommand_from run" -l vault-auth -d 'How to log in' -r -f -a "token\t'A token: --vault-token-file, VAULT_TOKEN, $CREDENTIALS_DIRECTORY/vault-token, then ~/.vault-token (a Vault Agent sink file works as --vault-token-file)'
approle\t'AppRole: role id and secret id read from files'
kubernetes\t'Kubernetes: a service-account JWT file'
cert\t'TLS certificate: --vault-client-cert/--vault-client-key (VAULT_CLIENT_CERT/KEY)'"
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand schedule; and __fish_seen_subcommand_from run" -l vault-auth-mount -d 'Mount path of the auth method (default: approle, kubernetes or cert)' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand schedule; and __fish_seen_subcommand_from run" -l vault-role-id-file -d 'AppRole role id file [default: $CREDENTIALS_DIRECTORY/vault-role-id]' -r -F
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand schedule; and __fish_seen_subcommand_from run" -l vault-secret-id-file -d 'AppRole secret id file [default: $CREDENTIALS_DIRECTORY/vault-secret-id]' -r -F
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand schedule; and __fish_seen_subcommand_from run" -l vault-role -d 'Role to log in as (kubernetes: required; cert: optional certificate role name)' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand schedule; and __fish_seen_subcommand_from run" -l vault-jwt-file -d 'Service-account JWT for kubernetes auth' -r -F
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand schedule; and __fish_seen_subcommand_from run" -l mount -d 'KV mount (e.g. secret); default: found from --path through sys/internal/ui/mounts' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand schedule; and __fish_seen_subcommand_from run" -l path -d 'Secret path inside the mount, or mount/path without --mount [env: VAULT_SECRET_PATH]' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand schedule; and __fish_seen_subcommand_from run" -l kv-version -d 'KV version of the mount; default: detected per mount' -r -f -a "1\t'KV v1: one value per path, no versions, no check-and-set'
2\t'KV v2: versioned, check-and-set, custom_metadata'"
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand schedule; and __fish_seen_subcommand_from run" -l file -d 'File to write for the file sink (replaced atomically, mode 0600)' -r -F
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand schedule; and __fish_seen_subcommand_from run" -l file-format -d 'Format of --file' -r -f -a "join\t'The worker join command (the control-plane one when --certificate-key was given); for a service account, its kubeconfig or token (--publish-value)'
env\t'KJT_JOIN_COMMAND=\'…\' lines (shell source, systemd EnvironmentFile=)'
json\t'The record as a JSON object of strings'"
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand schedule; and __fish_seen_subcommand_from run" -l secret-name -d 'Name of the Secret the secret sink writes' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand schedule; and __fish_seen_subcommand_from run" -l secret-namespace -d 'Namespace of that Secret (default: the context\'s namespace)' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand schedule; and __fish_seen_subcommand_from run" -l secret-context -d 'kubeconfig context for that Secret (default: --context, else the current one)' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand schedule; and __fish_seen_subcommand_from run" -l signature-wait -d 'Longest wait for the bootstrap signer\'s signature of the new token: every new token is verified as a joining node would see it before it is published, and one that fails is deleted and never published' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand schedule; and __fish_seen_subcommand_from run" -l service-account -d 'Renew this service account\'s published token instead of rotating bootstrap tokens (namespace from -n, else the context\'s): a new token is requested and published when a sink\'s record has less than --min-remaining left (default: duration − every + 1h). The bootstrap-token flags (--ttl, --usages, --keep-previous, …) do not apply' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand schedule; and __fish_seen_subcommand_from run" -l duration -d 'Lifetime of each service-account token (default 24h; at least --every + 1h)' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand schedule; and __fish_seen_subcommand_from run" -l audience -d 'Audience of the service-account token (repeatable; default: the apiserver\'s)' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand schedule; and __fish_seen_subcommand_from run" -l publish-value -d 'What the published record holds: the kubeconfig (the default) or the bare token' -r -f -a "kubeconfig\t'A kubeconfig (server, CA, token; namespace set): `kubectl --kubeconfig` reads it'
token\t'The bare token, for tools that take a bearer token'"
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand schedule; and __fish_seen_subcommand_from run" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, a list merged as kubectl does, then ~/.kube/config, then the in-cluster service account)' -r -F
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand schedule; and __fish_seen_subcommand_from run" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand schedule; and __fish_seen_subcommand_from run" -l cluster -d 'The kubeconfig cluster to use' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand schedule; and __fish_seen_subcommand_from run" -l user -d 'The kubeconfig user to use' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand schedule; and __fish_seen_subcommand_from run" -l request-timeout -d 'Timeout for a single server request: 0 (none), a bare number of seconds, or a Go duration such as 30s or 1m' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand schedule; and __fish_seen_subcommand_from run" -l as -d 'Username to impersonate for the operation' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand schedule; and __fish_seen_subcommand_from run" -l as-group -d 'Group to impersonate (repeatable)' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand schedule; and __fish_seen_subcommand_from run" -s n -l namespace -d 'Namespace (bootstrap tokens live only in kube-system)' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand schedule; and __fish_seen_subcommand_from run" -s v -l v -d 'Log verbosity on stderr: 0 warnings only, 2 info, 4 debug, 6+ trace (never secrets)' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand schedule; and __fish_seen_subcommand_from run" -l no-verify -d 'Do not read back what was written (for write-only Vault policies)'
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand schedule; and __fish_seen_subcommand_from run" -l replace-newer -d 'Replace a published token even when it expires later than ours'
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand schedule; and __fish_seen_subcommand_from run" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand schedule; and __fish_seen_subcommand_from run" -s V -l version -d 'Print version'
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand schedule; and __fish_seen_subcommand_from render" -l every -d 'Timer interval: divides a day (1h … 24h) or an hour (1m … 30m)' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand schedule; and __fish_seen_subcommand_from render" -l randomized-delay -d 'Spread of the per-node fixed random delay' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand schedule; and __fish_seen_subcommand_from render" -l timeout -d 'Longest a run may take' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand schedule; and __fish_seen_subcommand_from render" -l exec -d 'The binary the service runs' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand schedule; and __fish_seen_subcommand_from render" -l kubeconfig-credential -d 'Admin kubeconfig, loaded as a systemd credential' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand schedule; and __fish_seen_subcommand_from render" -l vault-token-credential -d 'Vault token file (e.g. a Vault Agent sink), loaded as a systemd credential' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand schedule; and __fish_seen_subcommand_from render" -l root -d 'Install into this root instead of / (packaging, tests); implies --no-enable' -r -F
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand schedule; and __fish_seen_subcommand_from render" -l image -d 'Container image with kubectl-jointoken on its PATH, for --cronjob' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand schedule; and __fish_seen_subcommand_from render" -l instance -d 'Rotation instance to install: several live side by side, each with its own units (`kubectl-jointoken-rotate@NAME.service|timer`), config (/etc/kubectl-jointoken/NAME.yaml), Lease, token label and CronJob name. `default` keeps the plain names' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand schedule; and __fish_seen_subcommand_from render" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, a list merged as kubectl does, then ~/.kube/config, then the in-cluster service account)' -r -F
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand schedule; and __fish_seen_subcommand_from render" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand schedule; and __fish_seen_subcommand_from render" -l cluster -d 'The kubeconfig cluster to use' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand schedule; and __fish_seen_subcommand_from render" -l user -d 'The kubeconfig user to use' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand schedule; and __fish_seen_subcommand_from render" -l request-timeout -d 'Timeout for a single server request: 0 (none), a bare number of seconds, or a Go duration such as 30s or 1m' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand schedule; and __fish_seen_subcommand_from render" -l as -d 'Username to impersonate for the operation' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand schedule; and __fish_seen_subcommand_from render" -l as-group -d 'Group to impersonate (repeatable)' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand schedule; and __fish_seen_subcommand_from render" -s n -l namespace -d 'Namespace (bootstrap tokens live only in kube-system)' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand schedule; and __fish_seen_subcommand_from render" -s v -l v -d 'Log verbosity on stderr: 0 warnings only, 2 info, 4 debug, 6+ trace (never secrets)' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand schedule; and __fish_seen_subcommand_from render" -l no-enable -d 'Do not daemon-reload or enable the timer'
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand schedule; and __fish_seen_subcommand_from render" -l force -d 'Replace existing units and config'
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand schedule; and __fish_seen_subcommand_from render" -l cronjob -d 'Instead of systemd units, render (render) or apply (install) the in-cluster equivalent: a CronJob in kube-system with its ServiceAccount and a least-privilege Role'
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand schedule; and __fish_seen_subcommand_from render" -s h -l help -d 'Print help'
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand schedule; and __fish_seen_subcommand_from render" -s V -l version -d 'Print version'
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand schedule; and __fish_seen_subcommand_from install" -l every -d 'Timer interval: divides a day (1h … 24h) or an hour (1m … 30m)' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand schedule; and __fish_seen_subcommand_from install" -l randomized-delay -d 'Spread of the per-node fixed random delay' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand schedule; and __fish_seen_subcommand_from install" -l timeout -d 'Longest a run may take' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand schedule; and __fish_seen_subcommand_from install" -l exec -d 'The binary the service runs' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand schedule; and __fish_seen_subcommand_from install" -l kubeconfig-credential -d 'Admin kubeconfig, loaded as a systemd credential' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand schedule; and __fish_seen_subcommand_from install" -l vault-token-credential -d 'Vault token file (e.g. a Vault Agent sink), loaded as a systemd credential' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand schedule; and __fish_seen_subcommand_from install" -l root -d 'Install into this root instead of / (packaging, tests); implies --no-enable' -r -F
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand schedule; and __fish_seen_subcommand_from install" -l image -d 'Container image with kubectl-jointoken on its PATH, for --cronjob' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand schedule; and __fish_seen_subcommand_from install" -l instance -d 'Rotation instance to install: several live side by side, each with its own units (`kubectl-jointoken-rotate@NAME.service|timer`), config (/etc/kubectl-jointoken/NAME.yaml), Lease, token label and CronJob name. `default` keeps the plain names' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand schedule; and __fish_seen_subcommand_from install" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, a list merged as kubectl does, then ~/.kube/config, then the in-cluster service account)' -r -F
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand schedule; and __fish_seen_subcommand_from install" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand schedule; and __fish_seen_subcommand_from install" -l cluster -d 'The kubeconfig cluster to use' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand schedule; and __fish_seen_subcommand_from install" -l user -d 'The kubeconfig user to use' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand schedule; and __fish_seen_subcommand_from install" -l request-timeout -d 'Timeout for a single server request: 0 (none), a bare number of seconds, or a Go duration such as 30s or 1m' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand schedule; and __fish_seen_subcommand_from install" -l as -d 'Username to impersonate for the operation' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand schedule; and __fish_seen_subcommand_from install" -l as-group -d 'Group to impersonate (repeatable)' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand schedule; and __fish_seen_subcommand_from install" -s n -l namespace -d 'Namespace (bootstrap tokens live only in kube-system)' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand schedule; and __fish_seen_subcommand_from install" -s v -l v -d 'Log verbosity on stderr: 0 warnings only, 2 info, 4 debug, 6+ trace (never secrets)' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand schedule; and __fish_seen_subcommand_from install" -l no-enable -d 'Do not daemon-reload or enable the timer'
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand schedule; and __fish_seen_subcommand_from install" -l force -d 'Replace existing units and config'
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand schedule; and __fish_seen_subcommand_from install" -l cronjob -d 'Instead of systemd units, render (render) or apply (install) the in-cluster equivalent: a CronJob in kube-system with its ServiceAccount and a least-privilege Role'
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand schedule; and __fish_seen_subcommand_from install" -s h -l help -d 'Print help'
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand schedule; and __fish_seen_subcommand_from install" -s V -l version -d 'Print version'
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand schedule; and __fish_seen_subcommand_from status" -l instance -d 'The rotation instance (see `install --instance`)' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand schedule; and __fish_seen_subcommand_from status" -l root -d 'The root the units were installed into' -r -F
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand schedule; and __fish_seen_subcommand_from status" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, a list merged as kubectl does, then ~/.kube/config, then the in-cluster service account)' -r -F
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand schedule; and __fish_seen_subcommand_from status" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand schedule; and __fish_seen_subcommand_from status" -l cluster -d 'The kubeconfig cluster to use' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand schedule; and __fish_seen_subcommand_from status" -l user -d 'The kubeconfig user to use' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand schedule; and __fish_seen_subcommand_from status" -l request-timeout -d 'Timeout for a single server request: 0 (none), a bare number of seconds, or a Go duration such as 30s or 1m' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand schedule; and __fish_seen_subcommand_from status" -l as -d 'Username to impersonate for the operation' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand schedule; and __fish_seen_subcommand_from status" -l as-group -d 'Group to impersonate (repeatable)' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand schedule; and __fish_seen_subcommand_from status" -s n -l namespace -d 'Namespace (bootstrap tokens live only in kube-system)' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand schedule; and __fish_seen_subcommand_from status" -s v -l v -d 'Log verbosity on stderr: 0 warnings only, 2 info, 4 debug, 6+ trace (never secrets)' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand schedule; and __fish_seen_subcommand_from status" -l cronjob -d 'The in-cluster CronJob instead of systemd units'
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand schedule; and __fish_seen_subcommand_from status" -s h -l help -d 'Print help'
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand schedule; and __fish_seen_subcommand_from status" -s V -l version -d 'Print version'
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand schedule; and __fish_seen_subcommand_from uninstall" -l instance -d 'The rotation instance (see `install --instance`)' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand schedule; and __fish_seen_subcommand_from uninstall" -l root -d 'The root the units were installed into' -r -F
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand schedule; and __fish_seen_subcommand_from uninstall" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, a list merged as kubectl does, then ~/.kube/config, then the in-cluster service account)' -r -F
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand schedule; and __fish_seen_subcommand_from uninstall" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand schedule; and __fish_seen_subcommand_from uninstall" -l cluster -d 'The kubeconfig cluster to use' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand schedule; and __fish_seen_subcommand_from uninstall" -l user -d 'The kubeconfig user to use' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand schedule; and __fish_seen_subcommand_from uninstall" -l request-timeout -d 'Timeout for a single server request: 0 (none), a bare number of seconds, or a Go duration such as 30s or 1m' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand schedule; and __fish_seen_subcommand_from uninstall" -l as -d 'Username to impersonate for the operation' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand schedule; and __fish_seen_subcommand_from uninstall" -l as-group -d 'Group to impersonate (repeatable)' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand schedule; and __fish_seen_subcommand_from uninstall" -s n -l namespace -d 'Namespace (bootstrap tokens live only in kube-system)' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand schedule; and __fish_seen_subcommand_from uninstall" -s v -l v -d 'Log verbosity on stderr: 0 warnings only, 2 info, 4 debug, 6+ trace (never secrets)' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand schedule; and __fish_seen_subcommand_from uninstall" -l cronjob -d 'The in-cluster CronJob instead of systemd units'
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand schedule; and __fish_seen_subcommand_from uninstall" -s h -l help -d 'Print help'
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand schedule; and __fish_seen_subcommand_from uninstall" -s V -l version -d 'Print version'
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand setup" -l groups -d 'Bootstrapper groups to bind besides system:bootstrappers:kubeadm:default-node-token (comma-separated; the groups your tokens carry with create --groups)' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand setup" -l endpoint -d 'The apiserver endpoint nodes join through, HOST:PORT (default: the server in kube-public/cluster-info when readable, else the kubeconfig\'s server)' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand setup" -l dry-run -d 'Must be none, client or server; a bare --dry-run means client' -r -f -a "none\t'Make the change'
client\t'Only compute and print what would change; send nothing that writes'
server\t'Send the write with dryRun=All: the apiserver validates it and persists nothing'"
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand setup" -s o -l output -d 'Output format: table, wide, json, yaml, name, jsonpath=TEMPLATE or custom-columns=HEADER:JSONPATH,… (kubectl\'s syntax)' -r -f -a "table\t'Human-readable columns'
wide\t'Columns with extra detail'
json\t'JSON'
yaml\t'YAML'
name\t'kind/name per object'
jsonpath=\t'kubectl\'s JSONPath template, e.g. jsonpath={.items[*].token}'
custom-columns=\t'HEADER:JSONPATH,… columns'"
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand setup" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, a list merged as kubectl does, then ~/.kube/config, then the in-cluster service account)' -r -F
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand setup" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand setup" -l cluster -d 'The kubeconfig cluster to use' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand setup" -l user -d 'The kubeconfig user to use' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand setup" -l request-timeout -d 'Timeout for a single server request: 0 (none), a bare number of seconds, or a Go duration such as 30s or 1m' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand setup" -l as -d 'Username to impersonate for the operation' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand setup" -l as-group -d 'Group to impersonate (repeatable)' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand setup" -s n -l namespace -d 'Namespace (bootstrap tokens live only in kube-system)' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand setup" -s v -l v -d 'Log verbosity on stderr: 0 warnings only, 2 info, 4 debug, 6+ trace (never secrets)' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand setup" -l no-auto-approve -d 'Leave out kubeadm:node-autoapprove-bootstrap: bootstrap CSRs then wait for approval (kubectl certificate approve, or an approver)'
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand setup" -l force-conflicts -d 'Take over objects other field managers own with different content'
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand setup" -l print -d 'Print the objects as multi-document YAML (for GitOps) instead of applying them; reads only the kubeconfig, never the cluster'
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand setup" -l no-headers -d 'Omit the header line of table output'
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand setup" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand setup" -s V -l version -d 'Print version'
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand verify" -l join-command -d 'Node side: check this `kubeadm join …` command' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand verify" -l token-file -d 'Node side: check the join command, bootstrap kubeconfig or bare id.secret token in this file (a bare token needs --endpoint and --discovery-token-ca-cert-hash)' -r -F
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand verify" -l discovery-token-ca-cert-hash -d 'CA pins (sha256:<hex>, repeatable) instead of the kubeconfig\'s (admin side) or the join command\'s' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand verify" -l endpoint -d 'The apiserver endpoint nodes join through, HOST:PORT (default: the server in kube-public/cluster-info when readable, else the kubeconfig\'s server)' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand verify" -l signature-wait -d 'How long to wait for the bootstrap signer to sign a fresh token (Go duration)' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand verify" -s o -l output -d 'Output format: table, wide, json, yaml, name, jsonpath=TEMPLATE or custom-columns=HEADER:JSONPATH,… (kubectl\'s syntax)' -r -f -a "table\t'Human-readable columns'
wide\t'Columns with extra detail'
json\t'JSON'
yaml\t'YAML'
name\t'kind/name per object'
jsonpath=\t'kubectl\'s JSONPath template, e.g. jsonpath={.items[*].token}'
custom-columns=\t'HEADER:JSONPATH,… columns'"
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand verify" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, a list merged as kubectl does, then ~/.kube/config, then the in-cluster service account)' -r -F
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand verify" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand verify" -l cluster -d 'The kubeconfig cluster to use' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand verify" -l user -d 'The kubeconfig user to use' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand verify" -l request-timeout -d 'Timeout for a single server request: 0 (none), a bare number of seconds, or a Go duration such as 30s or 1m' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand verify" -l as -d 'Username to impersonate for the operation' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand verify" -l as-group -d 'Group to impersonate (repeatable)' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand verify" -s n -l namespace -d 'Namespace (bootstrap tokens live only in kube-system)' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand verify" -s v -l v -d 'Log verbosity on stderr: 0 warnings only, 2 info, 4 debug, 6+ trace (never secrets)' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand verify" -l all -d 'Check every bootstrap token'
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand verify" -l no-headers -d 'Omit the header line of table output'
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand verify" -s h -l help -d 'Print help'
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand verify" -s V -l version -d 'Print version'
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand approve; and not __fish_seen_subcommand_from render install" -l allowed-cidrs -d 'Also require every IP SAN to lie in one of these CIDRs (comma-separated or repeated); the IP must still be one of the Node\'s addresses' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand approve; and not __fish_seen_subcommand_from render install" -l dns-pattern -d 'Also accept DNS SANs matching this pattern (repeatable): `{node}` stands for the node\'s name and a `*` label for any one label; matched whole, e.g. {node}.nodes.example.com' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand approve; and not __fish_seen_subcommand_from render install" -l max-expiration -d 'Longest certificate lifetime a CSR may ask for (spec.expirationSeconds), as a Go duration' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand approve; and not __fish_seen_subcommand_from render install" -l dry-run -d 'Must be none, client or server; a bare --dry-run means client' -r -f -a "none\t'Make the change'
client\t'Only compute and print what would change; send nothing that writes'
server\t'Send the write with dryRun=All: the apiserver validates it and persists nothing'"
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand approve; and not __fish_seen_subcommand_from render install" -l lease-name -d 'Lease in kube-system that elects the one active replica' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand approve; and not __fish_seen_subcommand_from render install" -l lease-seconds -d 'Lease duration in seconds: a crashed leader is replaced after this' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand approve; and not __fish_seen_subcommand_from render install" -l resync -d 'Re-evaluate every pending CSR this often (a Node registered since, a token deleted)' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand approve; and not __fish_seen_subcommand_from render install" -l identity -d 'This replica\'s name in the Lease (default: $POD_NAME, else $HOSTNAME)' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand approve; and not __fish_seen_subcommand_from render install" -l concurrency -d 'How many CSRs are decided at once (one-shot)' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand approve; and not __fish_seen_subcommand_from render install" -s o -l output -d 'Output format: table, wide, json, yaml, name, jsonpath=TEMPLATE or custom-columns=HEADER:JSONPATH,… (kubectl\'s syntax)' -r -f -a "table\t'Human-readable columns'
wide\t'Columns with extra detail'
json\t'JSON'
yaml\t'YAML'
name\t'kind/name per object'
jsonpath=\t'kubectl\'s JSONPath template, e.g. jsonpath={.items[*].token}'
custom-columns=\t'HEADER:JSONPATH,… columns'"
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand approve; and not __fish_seen_subcommand_from render install" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, a list merged as kubectl does, then ~/.kube/config, then the in-cluster service account)' -r -F
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand approve; and not __fish_seen_subcommand_from render install" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand approve; and not __fish_seen_subcommand_from render install" -l cluster -d 'The kubeconfig cluster to use' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand approve; and not __fish_seen_subcommand_from render install" -l user -d 'The kubeconfig user to use' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand approve; and not __fish_seen_subcommand_from render install" -l request-timeout -d 'Timeout for a single server request: 0 (none), a bare number of seconds, or a Go duration such as 30s or 1m' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand approve; and not __fish_seen_subcommand_from render install" -l as -d 'Username to impersonate for the operation' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand approve; and not __fish_seen_subcommand_from render install" -l as-group -d 'Group to impersonate (repeatable)' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand approve; and not __fish_seen_subcommand_from render install" -s n -l namespace -d 'Namespace (bootstrap tokens live only in kube-system)' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand approve; and not __fish_seen_subcommand_from render install" -s v -l v -d 'Log verbosity on stderr: 0 warnings only, 2 info, 4 debug, 6+ trace (never secrets)' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand approve; and not __fish_seen_subcommand_from render install" -l allow-rejoin -d 'Let a bootstrap token get a client certificate for a node name a Node already has (a rebuilt node)'
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand approve; and not __fish_seen_subcommand_from render install" -l deny -d 'Deny CSRs that fail a check (a Denied condition carrying the reason) instead of leaving them pending'
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand approve; and not __fish_seen_subcommand_from render install" -l explain -d 'Print every check of every CSR, and change nothing'
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand approve; and not __fish_seen_subcommand_from render install" -l watch -d 'Keep running as a controller: watch CSRs and decide each as it arrives (leader-elected on a Lease in kube-system, so several replicas are safe); stops cleanly on SIGTERM'
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand approve; and not __fish_seen_subcommand_from render install" -l no-headers -d 'Omit the header line of table output'
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand approve; and not __fish_seen_subcommand_from render install" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand approve; and not __fish_seen_subcommand_from render install" -s V -l version -d 'Print version'
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand approve; and not __fish_seen_subcommand_from render install" -a "render" -d 'Print the Deployment, ServiceAccount and least-privilege RBAC of the in-cluster approver (what `install --in-cluster` applies)'
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand approve; and not __fish_seen_subcommand_from render install" -a "install" -d 'Apply the in-cluster approver (server-side apply)'
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand approve; and __fish_seen_subcommand_from render" -l image -d 'Image with kubectl-jointoken on its PATH' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand approve; and __fish_seen_subcommand_from render" -l replicas -d 'Replicas of the Deployment (one leads, the others wait on the Lease)' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand approve; and __fish_seen_subcommand_from render" -l allowed-cidrs -d 'Also require every IP SAN to lie in one of these CIDRs (comma-separated or repeated); the IP must still be one of the Node\'s addresses' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand approve; and __fish_seen_subcommand_from render" -l dns-pattern -d 'Also accept DNS SANs matching this pattern (repeatable): `{node}` stands for the node\'s name and a `*` label for any one label; matched whole, e.g. {node}.nodes.example.com' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand approve; and __fish_seen_subcommand_from render" -l max-expiration -d 'Longest certificate lifetime a CSR may ask for (spec.expirationSeconds), as a Go duration' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand approve; and __fish_seen_subcommand_from render" -l lease-name -d 'Lease in kube-system that elects the one active replica' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand approve; and __fish_seen_subcommand_from render" -l lease-seconds -d 'Lease duration in seconds: a crashed leader is replaced after this' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand approve; and __fish_seen_subcommand_from render" -l resync -d 'Re-evaluate every pending CSR this often (a Node registered since, a token deleted)' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand approve; and __fish_seen_subcommand_from render" -l identity -d 'This replica\'s name in the Lease (default: $POD_NAME, else $HOSTNAME)' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand approve; and __fish_seen_subcommand_from render" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, a list merged as kubectl does, then ~/.kube/config, then the in-cluster service account)' -r -F
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand approve; and __fish_seen_subcommand_from render" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand approve; and __fish_seen_subcommand_from render" -l cluster -d 'The kubeconfig cluster to use' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand approve; and __fish_seen_subcommand_from render" -l user -d 'The kubeconfig user to use' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand approve; and __fish_seen_subcommand_from render" -l request-timeout -d 'Timeout for a single server request: 0 (none), a bare number of seconds, or a Go duration such as 30s or 1m' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand approve; and __fish_seen_subcommand_from render" -l as -d 'Username to impersonate for the operation' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand approve; and __fish_seen_subcommand_from render" -l as-group -d 'Group to impersonate (repeatable)' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand approve; and __fish_seen_subcommand_from render" -s n -l namespace -d 'Namespace (bootstrap tokens live only in kube-system)' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand approve; and __fish_seen_subcommand_from render" -s v -l v -d 'Log verbosity on stderr: 0 warnings only, 2 info, 4 debug, 6+ trace (never secrets)' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand approve; and __fish_seen_subcommand_from render" -l in-cluster -d 'Install into the cluster (a Deployment running `approve --watch`); the only target, and required by `install`'
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand approve; and __fish_seen_subcommand_from render" -l allow-rejoin -d 'Let a bootstrap token get a client certificate for a node name a Node already has (a rebuilt node)'
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand approve; and __fish_seen_subcommand_from render" -l deny -d 'Deny CSRs that fail a check (a Denied condition carrying the reason) instead of leaving them pending'
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand approve; and __fish_seen_subcommand_from render" -s h -l help -d 'Print help'
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand approve; and __fish_seen_subcommand_from render" -s V -l version -d 'Print version'
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand approve; and __fish_seen_subcommand_from install" -l image -d 'Image with kubectl-jointoken on its PATH' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand approve; and __fish_seen_subcommand_from install" -l replicas -d 'Replicas of the Deployment (one leads, the others wait on the Lease)' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand approve; and __fish_seen_subcommand_from install" -l allowed-cidrs -d 'Also require every IP SAN to lie in one of these CIDRs (comma-separated or repeated); the IP must still be one of the Node\'s addresses' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand approve; and __fish_seen_subcommand_from install" -l dns-pattern -d 'Also accept DNS SANs matching this pattern (repeatable): `{node}` stands for the node\'s name and a `*` label for any one label; matched whole, e.g. {node}.nodes.example.com' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand approve; and __fish_seen_subcommand_from install" -l max-expiration -d 'Longest certificate lifetime a CSR may ask for (spec.expirationSeconds), as a Go duration' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand approve; and __fish_seen_subcommand_from install" -l lease-name -d 'Lease in kube-system that elects the one active replica' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand approve; and __fish_seen_subcommand_from install" -l lease-seconds -d 'Lease duration in seconds: a crashed leader is replaced after this' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand approve; and __fish_seen_subcommand_from install" -l resync -d 'Re-evaluate every pending CSR this often (a Node registered since, a token deleted)' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand approve; and __fish_seen_subcommand_from install" -l identity -d 'This replica\'s name in the Lease (default: $POD_NAME, else $HOSTNAME)' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand approve; and __fish_seen_subcommand_from install" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, a list merged as kubectl does, then ~/.kube/config, then the in-cluster service account)' -r -F
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand approve; and __fish_seen_subcommand_from install" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand approve; and __fish_seen_subcommand_from install" -l cluster -d 'The kubeconfig cluster to use' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand approve; and __fish_seen_subcommand_from install" -l user -d 'The kubeconfig user to use' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand approve; and __fish_seen_subcommand_from install" -l request-timeout -d 'Timeout for a single server request: 0 (none), a bare number of seconds, or a Go duration such as 30s or 1m' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand approve; and __fish_seen_subcommand_from install" -l as -d 'Username to impersonate for the operation' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand approve; and __fish_seen_subcommand_from install" -l as-group -d 'Group to impersonate (repeatable)' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand approve; and __fish_seen_subcommand_from install" -s n -l namespace -d 'Namespace (bootstrap tokens live only in kube-system)' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand approve; and __fish_seen_subcommand_from install" -s v -l v -d 'Log verbosity on stderr: 0 warnings only, 2 info, 4 debug, 6+ trace (never secrets)' -r
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand approve; and __fish_seen_subcommand_from install" -l in-cluster -d 'Install into the cluster (a Deployment running `approve --watch`); the only target, and required by `install`'
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand approve; and __fish_seen_subcommand_from install" -l allow-rejoin -d 'Let a bootstrap token get a client certificate for a node name a Node already has (a rebuilt node)'
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand approve; and __fish_seen_subcommand_from install" -l deny -d 'Deny CSRs that fail a check (a Denied condition carrying the reason) instead of leaving them pending'
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand approve; and __fish_seen_subcommand_from install" -s h -l help -d 'Print help'
complete -c kubectl-jointoken -n "__fish_kubectl_jointoken_using_subcommand approve; and __fish_seen_subcommand_from install" -s V -l version -d 'Print version'
