//! The mbox backend (Dovecot-compatible).
pub struct MboxLayout;
impl MboxLayout {
    pub fn new(_l: &crate::storage::MailLocation, _u: &str) -> crate::storage::Result<Self> { Err(crate::storage::StorageError::Internal("mbox todo".into())) }
}
impl crate::storage::maildir::engine::FolderLayout for MboxLayout {
    fn control_dir(&self) -> std::path::PathBuf { todo!() }
    fn subscriptions_file(&self) -> &'static str { todo!() }
    fn init(&self) -> crate::storage::Result<()> { todo!() }
    fn check_name(&self, _: &crate::storage::MailboxName) -> crate::storage::Result<()> { todo!() }
    fn list(&self) -> crate::storage::Result<Vec<crate::storage::maildir::engine::ListedFolder>> { todo!() }
    fn create(&self, _: &crate::storage::MailboxName) -> crate::storage::Result<()> { todo!() }
    fn delete(&self, _: &crate::storage::MailboxName) -> crate::storage::Result<()> { todo!() }
    fn rename(&self, _: &crate::storage::MailboxName, _: &crate::storage::MailboxName) -> crate::storage::Result<()> { todo!() }
    fn folder(&self, _: &crate::storage::MailboxName) -> crate::storage::Result<std::sync::Arc<dyn crate::storage::maildir::engine::FolderFormat>> { todo!() }
    fn exists(&self, _: &crate::storage::MailboxName) -> bool { todo!() }
}
