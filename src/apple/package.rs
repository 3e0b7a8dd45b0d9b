//! The `.pkpass` archive: pass.json, manifest.json (SHA-1 of every file), signature, static files.
//!
//! The template's static files (images, lproj strings) are zipped and hashed once;
//! each pass only adds pass.json, its SHA-1, the signature and a raw copy of that archive.
//! Entries are STORED: PNGs do not shrink under deflate, and Wallet accepts both.

use std::io::{Cursor, Write};
use std::sync::Arc;

use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipArchive, ZipWriter};

use crate::templates::StaticFile;

/// A template's static files, pre-zipped, with their part of manifest.json.
#[derive(Clone)]
pub struct StaticPart {
    archive: ZipArchive<Cursor<Arc<[u8]>>>,
    /// `{"icon.png":"<sha1>",...,` ready for pass.json's entry and the closing brace.
    manifest_prefix: String,
    zipped_len: usize,
}

fn options() -> SimpleFileOptions {
    SimpleFileOptions::default().compression_method(CompressionMethod::Stored)
}

impl StaticPart {
    pub fn new(files: &[StaticFile]) -> zip::result::ZipResult<Self> {
        let mut zip = ZipWriter::new(Cursor::new(Vec::new()));
        let mut manifest_prefix = String::from("{");
        for f in files {
            zip.start_file(f.path.as_str(), options())?;
            zip.write_all(&f.bytes)?;
            manifest_prefix.push_str(&serde_json::to_string(&f.path).expect("a string serializes"));
            manifest_prefix.push(':');
            manifest_prefix.push('"');
            manifest_prefix.push_str(&f.sha1);
            manifest_prefix.push_str("\",");
        }
        let bytes: Arc<[u8]> = zip.finish()?.into_inner().into();
        let zipped_len = bytes.len();
        Ok(Self { archive: ZipArchive::new(Cursor::new(bytes))?, manifest_prefix, zipped_len })
    }

    /// manifest.json for a pass whose pass.json has this SHA-1.
    pub fn manifest(&self, pass_json: &[u8]) -> Vec<u8> {
        let sha1 = hex::encode(openssl::sha::sha1(pass_json));
        let mut m = String::with_capacity(self.manifest_prefix.len() + 60);
        m.push_str(&self.manifest_prefix);
        m.push_str("\"pass.json\":\"");
        m.push_str(&sha1);
        m.push_str("\"}");
        m.into_bytes()
    }

    /// Zips pass.json, manifest.json and signature with the static files.
    pub fn package(&self, pass_json: &[u8], manifest: &[u8], signature: &[u8]) -> zip::result::ZipResult<Vec<u8>> {
        let capacity = self.zipped_len + pass_json.len() + manifest.len() + signature.len() + 512;
        let mut zip = ZipWriter::new(Cursor::new(Vec::with_capacity(capacity)));
        for (name, bytes) in [("pass.json", pass_json), ("manifest.json", manifest), ("signature", signature)] {
            zip.start_file(name, options())?;
            zip.write_all(bytes)?;
        }
        zip.merge_archive(self.archive.clone())?;
        Ok(zip.finish()?.into_inner())
    }
}
