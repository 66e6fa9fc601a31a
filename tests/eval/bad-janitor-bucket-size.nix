# Must FAIL evaluation: the janitor would accept keys nginx's smaller map bucket refuses
# (scripts/check-nix.sh).
{
  imports = [ ./janitor-minimal.nix ];
  services.nginx.mapHashBucketSize = 64;
  services.honeybot.janitor.settings.map_hash_bucket_size = 128;
}
