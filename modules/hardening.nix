# One hardening baseline for every Honeybot system service (as prometheus/exporters.nix
# does for its family): each service adds only what it really needs on top.
{
  # filesystem
  ProtectSystem = "strict";
  ProtectHome = true;
  PrivateTmp = true;
  PrivateDevices = true;
  DevicePolicy = "closed";
  UMask = "0027";
  # kernel and process isolation
  ProtectKernelTunables = true;
  ProtectKernelModules = true;
  ProtectKernelLogs = true;
  ProtectControlGroups = true;
  ProtectClock = true;
  ProtectHostname = true;
  ProtectProc = "invisible";
  ProcSubset = "pid";
  PrivateUsers = true;
  NoNewPrivileges = true;
  RestrictSUIDSGID = true;
  RestrictNamespaces = true;
  RestrictRealtime = true;
  LockPersonality = true;
  MemoryDenyWriteExecute = true;
  RemoveIPC = true;
  CapabilityBoundingSet = "";
  AmbientCapabilities = "";
  SystemCallArchitectures = "native";
  SystemCallFilter = [
    "@system-service"
    "~@privileged"
    "~@resources"
  ];
  SystemCallErrorNumber = "EPERM";
}
