//! The bytes of a download ([`Download`]), as they arrive, bounded.

use bytes::Bytes;
use futures_core::Stream;
use futures_util::StreamExt as _;

use crate::error::Error;

/// The bytes of a download (a ticket image, a FAQ image), as they arrive.
///
/// The body is bounded: past [`MAX_DOWNLOAD_BYTES`](crate::MAX_DOWNLOAD_BYTES) the stream
/// ends with [`Error::ResponseTooLarge`].
pub struct Download {
    /// The answer's `Content-Type`, such as `image/png`.
    pub content_type: Option<String>,
    /// The answer's `Content-Length`, if it said one.
    pub content_length: Option<u64>,
    pub(crate) stream: std::pin::Pin<Box<dyn Stream<Item = Result<Bytes, Error>> + Send>>,
}

impl Download {
    /// The bytes, chunk by chunk.
    pub fn into_stream(self) -> impl Stream<Item = Result<Bytes, Error>> + Send {
        self.stream
    }

    /// All the bytes, in one buffer.
    pub async fn bytes(self) -> Result<Vec<u8>, Error> {
        let mut stream = self.stream;
        let mut all = Vec::with_capacity(self.content_length.unwrap_or(0).min(1 << 20) as usize);
        while let Some(chunk) = stream.next().await {
            all.extend_from_slice(&chunk?);
        }
        Ok(all)
    }
}

impl std::fmt::Debug for Download {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Download")
            .field("content_type", &self.content_type)
            .field("content_length", &self.content_length)
            .finish_non_exhaustive()
    }
}
