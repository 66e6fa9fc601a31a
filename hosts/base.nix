# What every example host shares: a bootable minimal VM disk layout.
{
  system.stateVersion = "25.11";
  boot.loader.grub.devices = [ "/dev/vda" ];
  fileSystems."/" = {
    device = "/dev/vda1";
    fsType = "ext4";
  };
}
