/**
 * sgdisk's four-hex-digit GPT type codes and the type GUIDs they stand for. DIB passes the config's
 * `type` straight to `sgdisk -t`, so we resolve codes exactly as sgdisk (gdisk 1.0.9) does. Every GUID
 * here was read back from a partition sgdisk created with that code; gpt-types.test.ts re-checks them.
 */

export interface GptTypeCode {
  /** Lower case, four hex digits, as `sgdisk -L` prints it. */
  code: string;
  /** Upper case, in the usual text form (on disk the first three fields are little-endian). */
  guid: string;
  /** Short name from `sgdisk -L`. */
  name: string;
}

const ROWS: ReadonlyArray<readonly [code: string, guid: string, name: string]> = [
  ["0700", "EBD0A0A2-B9E5-4433-87C0-68B6B72699C7", "Microsoft basic data"],
  ["0c01", "E3C9E316-0B5C-4DB8-817D-F92DF00215AE", "Microsoft reserved"],
  ["2700", "DE94BBA4-06D1-4D40-A16A-BFD50179D6AC", "Windows RE"],
  ["3000", "7412F7D5-A156-4B13-81DC-867174929325", "ONIE boot"],
  ["3001", "D4E6E2CD-4469-46F3-B5CB-1BFF57AFC149", "ONIE config"],
  ["4100", "9E1A2D38-C612-4316-AA26-8B49521E5A8B", "PowerPC PReP boot"],
  ["7501", "37AFFC90-EF7D-4E96-91C3-2D7AE055B174", "IBM GPFS"],
  ["8200", "0657FD6D-A4AB-43C4-84E5-0933C84B4F4F", "Linux swap"],
  ["8300", "0FC63DAF-8483-4772-8E79-3D69D8477DE4", "Linux filesystem"],
  ["8301", "8DA63339-0007-60C0-C436-083AC8230908", "Linux reserved"],
  ["8302", "933AC7E1-2EB4-4F13-B844-0E14E2AEF915", "Linux /home"],
  ["8303", "44479540-F297-41B2-9AF7-D131D5F0458A", "Linux x86 root (/)"],
  ["8304", "4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709", "Linux x86-64 root (/)"],
  ["8305", "B921B045-1DF0-41C3-AF44-4C6F280D3FAE", "Linux ARM64 root (/)"],
  ["8306", "3B8F8425-20E0-4F3B-907F-1A25A76F98E8", "Linux /srv"],
  ["8307", "69DAD710-2CE4-4E3C-B16C-21A1D49ABED3", "Linux ARM32 root (/)"],
  ["8308", "7FFEC5C9-2D00-49B7-8941-3EA10A5586B7", "Linux dm-crypt"],
  ["8309", "CA7D7CCB-63ED-4C53-861C-1742536059CC", "Linux LUKS"],
  ["830a", "993D8D3D-F80E-4225-855A-9DAF8ED7EA97", "Linux IA-64 root (/)"],
  ["830b", "D13C5D3B-B5D1-422A-B29F-9454FDC89D76", "Linux x86 root verity"],
  ["830c", "2C7357ED-EBD2-46D9-AEC1-23D437EC2BF5", "Linux x86-64 root verity"],
  ["830d", "7386CDF2-203C-47A9-A498-F2ECCE45A2D6", "Linux ARM32 root verity"],
  ["830e", "DF3300CE-D69F-4C92-978C-9BFB0F38D820", "Linux ARM64 root verity"],
  ["830f", "86ED10D5-B607-45BB-8957-D350F23D0571", "Linux IA-64 root verity"],
  ["8310", "4D21B016-B534-45C2-A9FB-5C16E091FD2D", "Linux /var"],
  ["8311", "7EC6F557-3BC5-4ACA-B293-16EF5DF639D1", "Linux /var/tmp"],
  ["8312", "773F91EF-66D4-49B5-BD83-D683BF40AD16", "Linux user's home"],
  ["8313", "75250D76-8CC6-458E-BD66-BD47CC81A812", "Linux x86 /usr"],
  ["8314", "8484680C-9521-48C6-9C11-B0720656F69E", "Linux x86-64 /usr"],
  ["8315", "7D0359A3-02B3-4F0A-865C-654403E70625", "Linux ARM32 /usr"],
  ["8316", "B0E01050-EE5F-4390-949A-9101B17104E9", "Linux ARM64 /usr"],
  ["8317", "4301D2A6-4E3B-4B2A-BB94-9E0B2C4225EA", "Linux IA-64 /usr"],
  ["8318", "8F461B0D-14EE-4E81-9AA9-049B6FB97ABD", "Linux x86 /usr verity"],
  ["8319", "77FF5F63-E7B6-4633-ACF4-1565B864C0E6", "Linux x86-64 /usr verity"],
  ["831a", "C215D751-7BCD-4649-BE90-6627490A4C05", "Linux ARM32 /usr verity"],
  ["831b", "6E11A4E7-FBCA-4DED-B9E9-E1A512BB664E", "Linux ARM64 /usr verity"],
  ["831c", "6A491E03-3BE7-4545-8E38-83320E0EA880", "Linux IA-64 /usr verity"],
  ["8e00", "E6D6D379-F507-44C2-A23C-238F2A3DF928", "Linux LVM"],
  ["a500", "516E7CB4-6ECF-11D6-8FF8-00022D09712B", "FreeBSD disklabel"],
  ["a501", "83BD6B9D-7F41-11DC-BE0B-001560B84F0F", "FreeBSD boot"],
  ["a502", "516E7CB5-6ECF-11D6-8FF8-00022D09712B", "FreeBSD swap"],
  ["a503", "516E7CB6-6ECF-11D6-8FF8-00022D09712B", "FreeBSD UFS"],
  ["a504", "516E7CBA-6ECF-11D6-8FF8-00022D09712B", "FreeBSD ZFS"],
  ["a580", "85D5E45A-237C-11E1-B4B3-E89A8F7FC3A7", "Midnight BSD data"],
  ["a581", "85D5E45E-237C-11E1-B4B3-E89A8F7FC3A7", "Midnight BSD boot"],
  ["a582", "85D5E45B-237C-11E1-B4B3-E89A8F7FC3A7", "Midnight BSD swap"],
  ["a600", "824CC7A0-36A8-11E3-890A-952519AD3F61", "OpenBSD disklabel"],
  ["a800", "55465300-0000-11AA-AA11-00306543ECAC", "Apple UFS"],
  ["a901", "49F48D32-B10E-11DC-B99B-0019D1879648", "NetBSD swap"],
  ["ab00", "426F6F74-0000-11AA-AA11-00306543ECAC", "Recovery HD"],
  ["af00", "48465300-0000-11AA-AA11-00306543ECAC", "Apple HFS/HFS+"],
  ["be00", "6A82CB45-1DD2-11B2-99A6-080020736631", "Solaris boot"],
  ["bf00", "6A85CF4D-1DD2-11B2-99A6-080020736631", "Solaris root"],
  ["bf01", "6A898CC3-1DD2-11B2-99A6-080020736631", "Solaris /usr & Mac ZFS"],
  ["bf02", "6A87C46F-1DD2-11B2-99A6-080020736631", "Solaris swap"],
  ["bf03", "6A8B642B-1DD2-11B2-99A6-080020736631", "Solaris backup"],
  ["bf04", "6A8EF2E9-1DD2-11B2-99A6-080020736631", "Solaris /var"],
  ["bf05", "6A90BA39-1DD2-11B2-99A6-080020736631", "Solaris /home"],
  ["bf06", "6A9283A5-1DD2-11B2-99A6-080020736631", "Solaris alternate sector"],
  ["bf07", "6A945A3B-1DD2-11B2-99A6-080020736631", "Solaris Reserved 1"],
  ["ea00", "BC13C2FF-59E6-4262-A352-B275FD6F7172", "XBOOTLDR partition"],
  ["ef00", "C12A7328-F81F-11D2-BA4B-00A0C93EC93B", "EFI system partition"],
  ["ef01", "024DEE41-33E7-11D3-9D69-0008C781F39F", "MBR partition scheme"],
  ["ef02", "21686148-6449-6E6F-744E-656564454649", "BIOS boot partition"],
  ["fb00", "AA31E02A-400F-11DB-9590-000C2911D1B8", "VMWare VMFS"],
  ["fb01", "9198EFFC-31C0-11DB-8F78-000C2911D1B8", "VMWare reserved"],
  ["fd00", "A19D880F-05FC-4D3B-A006-743F0F84911E", "Linux RAID"],
];

export const GPT_TYPE_CODES: ReadonlyArray<GptTypeCode> = ROWS.map(([code, guid, name]) => ({
  code,
  guid,
  name,
}));

const BY_CODE = new Map(GPT_TYPE_CODES.map((entry) => [entry.code, entry]));

/** DIB's GPT default (`partition.py`: `'8300'`). */
export const DEFAULT_GPT_TYPE_CODE = "8300";

export type GptTypeResolution =
  { ok: true; guid: string; entry?: GptTypeCode } | { ok: false; error: string };

// sgdisk takes the dashed form with or without braces; the nil GUID marks an unused entry, so sgdisk
// refuses it (as it refuses code 0000).
const GUID_RE = /^\{?([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\}?$/i;
const NIL_GUID = "00000000-0000-0000-0000-000000000000";
// sgdisk also accepts a lower-case "0x" prefix (but not "0X").
const CODE_RE = /^(?:0x)?([0-9a-fA-F]{4})$/;

/**
 * Resolves a config `type` (sgdisk code in any case, or a type GUID) to the GUID sgdisk would write.
 * Deliberate difference from sgdisk: an unknown code is an error here, while sgdisk silently writes
 * "Linux filesystem" for any hex number it does not know ("ef", "83", "1234"), and keeps only the last
 * four digits of longer numbers ("12345" → 2345).
 */
export function resolveGptType(text: string): GptTypeResolution {
  const guid = GUID_RE.exec(text)?.[1];
  if (guid !== undefined) {
    if (guid === NIL_GUID)
      return { ok: false, error: "the nil GUID marks an unused GPT entry; give a real type GUID" };
    return { ok: true, guid: guid.toUpperCase() };
  }
  const code = CODE_RE.exec(text)?.[1]?.toLowerCase();
  const entry = code === undefined ? undefined : BY_CODE.get(code);
  if (entry) return { ok: true, guid: entry.guid, entry };
  const suggestion = closestGptTypeCode(text);
  return {
    ok: false,
    error:
      `unknown GPT type "${text}": give one of sgdisk's four-digit codes (see \`sgdisk -L\`) or a type GUID` +
      (suggestion ? `; did you mean "${suggestion.code}" (${suggestion.name})?` : ""),
  };
}

/** The known code nearest to `text`: MBR-style "ef"/"83" map to "ef00"/"8300", else by edit distance. */
export function closestGptTypeCode(text: string): GptTypeCode | undefined {
  const typed = text.trim().toLowerCase().replace(/^0x/, "");
  // Users coming from MBR write the one-byte type; sgdisk's codes are that byte followed by "00".
  if (/^[0-9a-f]{1,2}$/.test(typed)) {
    const padded = BY_CODE.get(`${typed.padStart(2, "0")}00`);
    if (padded) return padded;
  }
  let best: GptTypeCode | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  let bestPrefix = 0;
  for (const entry of GPT_TYPE_CODES) {
    const distance = editDistance(typed, entry.code);
    // On a tie, the code that starts like the input wins ("83000" -> "8300", not "3000").
    const prefix = commonPrefixLength(typed, entry.code);
    if (distance < bestDistance || (distance === bestDistance && prefix > bestPrefix)) {
      best = entry;
      bestDistance = distance;
      bestPrefix = prefix;
    }
  }
  // A suggestion that shares nothing with the input only confuses.
  return bestDistance <= 2 ? best : undefined;
}

function commonPrefixLength(a: string, b: string): number {
  let length = 0;
  while (length < a.length && a[length] === b[length]) length += 1;
  return length;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i += 1) {
    const current = [i];
    for (let j = 1; j <= b.length; j += 1) {
      const substitution = previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min(previous[j]! + 1, current[j - 1]! + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length]!;
}
