"""Cards as FAT sees them: card classes, the cost of files, name rules, images."""
