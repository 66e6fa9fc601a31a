# Worked example (not imported anywhere): Honeybot's secrets with sops-nix.
# The host imports sops-nix's module (inputs.sops-nix.nixosModules.sops) and Honeybot's.
#
#   secrets/webhead.yaml, encrypted with `sops secrets/webhead.yaml` for the host's age key:
#     honeybot-ip-key: <32 random bytes, e.g. from `head -c 32 /dev/urandom | base64`>
#     ai-commit-api-key: sk-...
{ config, ... }:
{
  sops.defaultSopsFile = ./webhead.yaml; # encrypted, so it may be in the store
  sops.age.sshKeyPaths = [ "/etc/ssh/ssh_host_ed25519_key" ];

  # Decrypted at activation to /run/secrets/honeybot-ip-key, root:root 0400.
  sops.secrets.honeybot-ip-key = {
    mode = "0400";
    # Restart the ingester when the key changes (it reads its credential at start).
    restartUnits = [ "honeybot-ingest.service" ];
  };
  services.honeybot.ingest = {
    enable = true;
    settings.ip_mode = "hash";
    ipHashKeyFile = config.sops.secrets.honeybot-ip-key.path; # "/run/secrets/honeybot-ip-key"
  };

  sops.secrets.ai-commit-api-key = {
    owner = "alice";
    mode = "0400";
  };
  programs.ai-commit = {
    enable = true;
    settings = {
      provider = "openai";
      endpoint = "https://llm.example.net";
      model = "some-model";
      api_key_file = config.sops.secrets.ai-commit-api-key.path;
    };
  };
}
