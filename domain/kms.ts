/**
 * Facts of Exchange 5.5's Key Management Server that every layer relies on, written once.
 * machines/, persistence/, host/ and recovery/ import them; this module imports nothing.
 */

/** The KMS service name on Exchange 5.5 ("Microsoft Exchange Key Manager"). */
export const KMS_SERVICE_NAME = 'MSExchangeKMS';

/** The alpha string of an Exchange 5.5 KMS is 14 characters long. */
export const ALPHA_STRING_LENGTH = 14;

/** The startup disk's file: `[config]` then `pwd=<alpha string>`. */
export const STARTUP_DISK_FILE = 'Kmspwd.ini';

/** Where the tool read the alpha string from (never the string itself). */
export type AlphaSource = 'startup-disk' | 'environment' | 'prompt';

/** The KMS's database in Kmsdata: the file a running KMS holds open. */
export const KMS_DATABASE_FILE = 'kmsdata.edb';
