/** Durable storage in OVSDB's standalone file format (docs/storage.md). */
export { encodeRecord, sha1Hex, RecordReader, UnsupportedFileError, type ReadResult } from './record.js';
export { commitToRecordText, recordToCommit } from './txn-record.js';
export { MemoryStorage, type Storage } from './storage.js';
export {
  FileStorage,
  DEFAULT_COMPACTION,
  type CompactionPolicy,
  type FileStorageOptions,
  type FileStorageStats,
} from './file-storage.js';
export {
  createDatabaseFile,
  loadDatabaseFile,
  openDatabaseFile,
  schemaRecordJson,
  type Damage,
  type LoadedFile,
  type OpenedDatabase,
} from './open.js';
export * from './rewrite.js';
